/** `admission-webhook`: run the Kubernetes admission webhook (HTTPS) until SIGTERM/SIGINT. @module */
import { resolve } from 'node:path'
import type { ImageCheck } from '../../admission/types.js'
import { CountersignError } from '../../errors.js'
import { createSecretSet, redactingErrors, redactValue } from '../../http/redact.js'
import { type PolicyFile, startAdmissionServer } from '../../node/admission-server.js'
import type { FlagSpec, ParsedFlags } from '../args.js'
import type { CliIO } from '../context.js'
import { boundRegistryCredentials, REGISTRY_FLAGS } from '../flags/registry.js'
import { batchLines } from '../line-batch.js'
import type { Command } from './command.js'

/**
 * Builds the image check from the policy files (read fresh on every change). `flags` carries the registry flags so
 * the check can open registries the way the other verbs do.
 */
export type CreateImageCheck = (
  policyFiles: readonly PolicyFile[],
  io: CliIO,
  flags: ParsedFlags,
) => Promise<ImageCheck>

/** How the verb is wired: the policy evaluator plugs in through `createCheck`. */
export interface AdmissionWebhookCommandOptions {
  readonly createCheck: CreateImageCheck
  /** More flags for `createCheck` to read (e.g. `--no-match-policy`, `--trusted-root`); parsed with the others. */
  readonly extraFlags?: readonly FlagSpec[]
  /** Stops the server like SIGTERM does (tests). */
  readonly shutdownSignal?: AbortSignal
  /**
   * The version of the trust material `createCheck` reads beyond the policy files (TUF targets), polled with them:
   * a change rebuilds the check (`AdmissionServerOptions.trustVersion`). Undefined: nothing to follow.
   */
  readonly trustVersion?: (io: CliIO, flags: ParsedFlags) => (() => Promise<string>) | undefined
}

const flags: readonly FlagSpec[] = [
  { name: 'tls-cert', type: 'string', help: 'PEM certificate to serve (reloaded when the file changes)' },
  { name: 'tls-key', type: 'string', help: 'PEM private key of --tls-cert' },
  { name: 'port', type: 'string', default: '8443', help: 'port to listen on' },
  { name: 'host', type: 'string', help: 'address to listen on (default all interfaces)' },
  {
    name: 'policy',
    type: 'strings',
    help: 'ClusterImagePolicy or Kyverno ClusterPolicy/Policy file or directory (a ConfigMap mount); repeatable; reloaded when it changes',
  },
  {
    name: 'mode',
    type: 'string',
    default: 'enforce',
    help: 'enforce (deny failing images) or warn (allow with warnings)',
  },
  {
    name: 'timeout',
    type: 'string',
    default: '8s',
    help: 'budget for verifying one review (e.g. 8s, 500ms); past it: deny',
  },
  {
    name: 'gatekeeper-client-ca',
    type: 'string',
    help: "PEM CA of Gatekeeper's client certificate: /gatekeeper/* then requires a client certificate it signed (reloaded when the file changes)",
  },
  {
    name: 'gatekeeper-client-name',
    type: 'strings',
    help: "a DNS SAN Gatekeeper's client certificate must carry (e.g. gatekeeper-webhook-service.gatekeeper-system.svc); repeatable",
  },
  {
    name: 'gatekeeper-timeout',
    type: 'string',
    default: '1500ms',
    help: "budget for one Gatekeeper provider request; keep it below the Provider's spec.timeout",
  },
  ...REGISTRY_FLAGS,
]

function parseDuration(s: string, flag = 'timeout'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim())
  if (!m) throw new CountersignError('ERR_INVALID_INPUT', `invalid duration for --${flag}: ${JSON.stringify(s)}`)
  const unit = m[2] ?? 's'
  return Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000))
}

/** Until the policy evaluator is wired in, policies never load: the webhook stays unready and denies every review. */
const noPolicyEvaluator: CreateImageCheck = async () => {
  throw new CountersignError('ERR_INVALID_INPUT', 'this build has no policy evaluator for the admission webhook')
}

/**
 * Build the `admission-webhook` verb around `createCheck`.
 */
export function createAdmissionWebhookCommand(options: AdmissionWebhookCommandOptions): Command {
  return {
    name: 'admission-webhook',
    usage: 'countersign admission-webhook --tls-cert FILE --tls-key FILE --policy FILE|DIR [--port 8443]',
    description:
      'Run the Kubernetes admission webhook: POST /validate and /mutate (pin tags to verified digests), the OPA Gatekeeper external-data provider at POST /gatekeeper/validate and /gatekeeper/mutate, GET /healthz, /readyz, /metrics',
    flags: [...flags, ...(options.extraFlags ?? [])],
    async run({ flags: f, args }, io) {
      if (args.length > 0) throw new CountersignError('ERR_INVALID_INPUT', 'admission-webhook takes no arguments')
      const cert = f['tls-cert']
      const key = f['tls-key']
      if (typeof cert !== 'string' || typeof key !== 'string')
        throw new CountersignError('ERR_INVALID_INPUT', '--tls-cert and --tls-key are required')
      const policies = (f.policy as string[]).map((p) => resolve(io.cwd, p))
      if (policies.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one --policy is required')
      const port = Number(f.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CountersignError('ERR_INVALID_INPUT', `invalid --port: ${JSON.stringify(f.port)}`)
      const mode = f.mode
      if (mode !== 'enforce' && mode !== 'warn')
        throw new CountersignError('ERR_INVALID_INPUT', '--mode must be enforce or warn')
      const timeoutMs = parseDuration(String(f.timeout))
      const gatekeeperTimeoutMs = parseDuration(String(f['gatekeeper-timeout']), 'gatekeeper-timeout')
      if (gatekeeperTimeoutMs < 1)
        throw new CountersignError('ERR_INVALID_INPUT', '--gatekeeper-timeout must be at least 1ms')
      const clientCA = typeof f['gatekeeper-client-ca'] === 'string' ? f['gatekeeper-client-ca'] : undefined
      const clientNames = (f['gatekeeper-client-name'] as string[] | undefined) ?? []
      if (clientNames.some((n) => n.trim() === ''))
        throw new CountersignError('ERR_INVALID_INPUT', '--gatekeeper-client-name must not be empty')
      if (clientNames.length > 0 && clientCA === undefined)
        throw new CountersignError('ERR_INVALID_INPUT', '--gatekeeper-client-name needs --gatekeeper-client-ca')
      const host = typeof f.host === 'string' ? f.host : undefined
      const secrets = io.secrets ?? createSecretSet()
      // The webhook has no image of its own: explicit registry credentials without --registry-host are refused
      // here, at start, rather than on every policy load.
      boundRegistryCredentials(f, undefined)

      const trustVersion = options.trustVersion?.(io, f)
      // One write per turn of the event loop for the line per review (see line-batch.ts); what is pending is written
      // on shutdown and at exit.
      const logLines = batchLines((text) => io.stderr.write(text))
      const flushAtExit = () => logLines.flush()
      process.once('exit', flushAtExit)
      try {
        const server = await startAdmissionServer({
          tlsCertFile: resolve(io.cwd, cert),
          tlsKeyFile: resolve(io.cwd, key),
          port,
          ...(host !== undefined ? { host } : {}),
          policyPaths: policies,
          mode,
          timeoutMs,
          gatekeeperTimeoutMs,
          ...(clientCA !== undefined ? { gatekeeperClientCAFile: resolve(io.cwd, clientCA) } : {}),
          ...(clientNames.length > 0 ? { gatekeeperClientNames: clientNames } : {}),
          // Verdicts, denial messages and log lines pass through the process's secrets, as docs/admission.md promises
          // (the registry client already redacts what registries answer; this covers any other text quoting one).
          ...(trustVersion ? { trustVersion } : {}),
          loadCheck: async (files) => {
            const check = await options.createCheck(files, io, f)
            return redactingErrors(async (image, context) => redactValue(await check(image, context), secrets), secrets)
          },
          // The secret set knows the JSON-escaped form of every secret, so redacting the serialised line is redacting
          // every string in it, without copying the entry (one line per review).
          log: (entry) =>
            logLines.write(`${secrets.redact(JSON.stringify({ time: new Date().toISOString(), ...entry }))}\n`),
        })
        if (!server.isReady()) {
          // The first load failed (reason logged above); keep serving denials so a fixed ConfigMap is picked up, as a
          // Deployment would, but say so plainly.
          logLines.flush()
          io.stderr.write('admission webhook is not ready: policies did not load\n')
        }
        await new Promise<void>((done) => {
          const stop = () => {
            process.off('SIGTERM', stop)
            process.off('SIGINT', stop)
            options.shutdownSignal?.removeEventListener('abort', stop)
            done()
          }
          process.once('SIGTERM', stop)
          process.once('SIGINT', stop)
          if (options.shutdownSignal?.aborted) stop()
          else options.shutdownSignal?.addEventListener('abort', stop, { once: true })
        })
        await server.close()
        return 0
      } finally {
        logLines.flush()
        process.off('exit', flushAtExit)
      }
    },
  }
}

/** `admission-webhook`, with the policy evaluator the lead wires in (none yet: never ready, denies everything). */
export const admissionWebhookCommand: Command = createAdmissionWebhookCommand({ createCheck: noPolicyEvaluator })
