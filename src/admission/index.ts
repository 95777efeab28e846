/**
 * Kubernetes admission: AdmissionReview v1 parsing, image extraction from Pods and pod templates, the fail-closed
 * decision (validating and mutating), JSONPatch digest pinning and Prometheus metrics. Pure; the HTTPS server is
 * `startAdmissionServer` in `countersign/node`.
 *
 * Exported from `countersign/admission`.
 * @module
 */

export {
  createGatekeeperHandler,
  type GatekeeperCallOptions,
  type GatekeeperEndpoint,
  type GatekeeperHandler,
  type GatekeeperHandlerOptions,
  type GatekeeperOutcome,
} from './gatekeeper.js'
export {
  type GatekeeperItem,
  type GatekeeperProviderResponse,
  type GatekeeperVerifiedValue,
  gatekeeperSystemError,
} from './gatekeeper-protocol.js'
export {
  type AdmissionDecision,
  type AdmissionEndpoint,
  type AdmissionHandler,
  type AdmissionHandlerCallOptions,
  type AdmissionHandlerOptions,
  type AdmissionOutcome,
  createAdmissionHandler,
} from './handler.js'
export { podSpecPath, type WorkloadImage, workloadImages } from './images.js'
export { type AdmissionMetrics, createAdmissionMetrics } from './metrics.js'
export { pinImagesPatch, pinnedReference } from './patch.js'
export {
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
  admissionReviewResponse,
  denyResponse,
  type GroupVersionKind,
  type JSONPatchOperation,
  parseAdmissionReview,
  reviewUID,
} from './review.js'
export type { AdmissionResource, ImageCheck, ImageCheckResult } from './types.js'
