/**
 * examples/gatekeeper holds together: every YAML document parses, and the names that tie the files to each other and
 * to countersign agree (Provider URLs are routes the server serves, on the Service and certificate names of
 * examples/admission-webhook; template, constraint and mutations name those Providers; the deployment patch uses
 * real flags and keeps the Deployment's other arguments). The Rego is only checked as text: no `opa` binary is
 * available here, and Gatekeeper's `gator` cannot evaluate `external_data` (it does not register the builtin), so
 * the template's behaviour needs a kind cluster with Gatekeeper; the protocol itself is tested end to end in
 * test/admission/gatekeeper-provider.integration.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { policyAdmissionWebhookCommand } from '../../src/cli/commands/admission-policy.js'
import { GATEKEEPER_PATHS } from '../../src/node/admission-server-gatekeeper.js'

const ROOT = resolve(import.meta.dirname, '../..')
const DIR = join(ROOT, 'examples', 'gatekeeper')
const WEBHOOK_DIR = join(ROOT, 'examples', 'admission-webhook')

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes documents, inspected field by field
type Doc = any

function load(path: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'))
  for (const d of docs) expect(d.errors, path).toEqual([])
  return docs.map((d) => d.toJS() as Doc).filter((d) => d !== null)
}

const yamlFiles = readdirSync(DIR).filter((f) => f.endsWith('.yaml'))
const all = yamlFiles.flatMap((f) => load(join(DIR, f)).map((doc) => ({ file: f, doc })))
const ofKind = (kind: string) => all.filter((d) => d.doc.kind === kind).map((d) => d.doc)

const providers = ofKind('Provider')
const [template] = ofKind('ConstraintTemplate')
const constraints = all.filter((d) => d.doc.apiVersion === 'constraints.gatekeeper.sh/v1beta1').map((d) => d.doc)
const assigns = ofKind('Assign')
const providerFor = (path: string) => providers.find((p) => new URL(p.spec.url).pathname === path)

describe('examples/gatekeeper', () => {
  it('every file parses; the README names each of them', () => {
    expect(yamlFiles.sort()).toEqual([
      'assign-digest.yaml',
      'certificate-ca.yaml',
      'constraint.yaml',
      'deployment-patch.yaml',
      'provider.yaml',
      'template.yaml',
    ])
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8')
    for (const f of yamlFiles) expect(readme, f).toContain(`\`${f}\``)
    expect(readme).toMatch(/No `opa` binary is available/)
  })

  it('the Providers: v1beta1, https to the webhook Service on a route countersign serves, a timeout, a caBundle slot', () => {
    const service = load(join(WEBHOOK_DIR, 'service.yaml'))[0]
    const cert = ofKind('Certificate').find((c) => c.metadata.name === 'countersign-webhook')
    expect(providers.map((p) => p.metadata.name)).toEqual(['countersign', 'countersign-mutate'])
    for (const p of providers) {
      expect(p.apiVersion).toBe('externaldata.gatekeeper.sh/v1beta1')
      const url = new URL(p.spec.url)
      expect(url.protocol).toBe('https:')
      expect(url.hostname).toBe(`${service.metadata.name}.${service.metadata.namespace}.svc`)
      expect(Number(url.port || 443)).toBe(service.spec.ports[0].port)
      // Gatekeeper checks the URL host against the serving certificate's DNS SANs.
      expect(cert.spec.dnsNames).toContain(url.hostname)
      expect(GATEKEEPER_PATHS.has(url.pathname), url.pathname).toBe(true)
      expect(Number.isInteger(p.spec.timeout) && p.spec.timeout >= 1).toBe(true)
      expect(p.spec.caBundle).toMatch(/^REPLACE_WITH_/)
    }
    expect(GATEKEEPER_PATHS.get(new URL(providerFor('/gatekeeper/validate').spec.url).pathname)).toBe('validate')
    expect(providerFor('/gatekeeper/mutate')).toBeDefined()
  })

  it("the ConstraintTemplate's kind is the Constraint's; its Rego asks external_data with the provider parameter", () => {
    const kind = template.spec.crd.spec.names.kind
    expect(template.apiVersion).toBe('templates.gatekeeper.sh/v1')
    // Gatekeeper requires metadata.name to be the lower-cased kind.
    expect(template.metadata.name).toBe(kind.toLowerCase())
    expect(template.spec.crd.spec.validation.openAPIV3Schema.properties.provider.type).toBe('string')
    const [target] = template.spec.targets
    expect(target.target).toBe('admission.k8s.gatekeeper.sh')
    const rego: string = target.rego
    expect(rego).toMatch(new RegExp(`^package ${template.metadata.name}$`, 'm'))
    expect(rego).toMatch(/provider_name = p \{\s*p := input\.parameters\.provider\s*\}/)
    expect(rego).toMatch(/external_data\(\{"provider": provider_name, "keys": keys\}\)/)
    // Fails closed on each kind of non-answer, and never relies on the HTTP status (0 for cached answers).
    expect(rego).toMatch(/err := remote\.system_error\s+err != ""/)
    expect(rego).toMatch(/e := remote\.errors\[_\]/)
    expect(rego).toMatch(/not answered\[img\]/)
    expect(rego).toMatch(/not r\[1\]\.verified == true/)
    expect(rego).not.toMatch(/status_code\s*==/)
    for (const field of ['containers', 'initContainers', 'ephemeralContainers']) expect(rego).toContain(`"${field}"`)

    expect(constraints).toHaveLength(1)
    const [constraint] = constraints
    expect(constraint.kind).toBe(kind)
    expect(constraint.spec.parameters.provider).toBe(providerFor('/gatekeeper/validate').metadata.name)
    // A countersign or Gatekeeper outage must not block their own namespaces.
    expect(constraint.spec.match.excludedNamespaces).toEqual(
      expect.arrayContaining(['kube-system', 'gatekeeper-system', 'countersign-system']),
    )
  })

  it('the mutations ask the Provider on /gatekeeper/mutate for image fields of Pods', () => {
    const mutate = providerFor('/gatekeeper/mutate').metadata.name
    expect(assigns.length).toBeGreaterThan(0)
    for (const a of assigns) {
      expect(a.apiVersion).toBe('mutations.gatekeeper.sh/v1')
      expect(a.spec.location).toMatch(/^spec\.(containers|initContainers)\[name:\*\]\.image$/)
      const ext = a.spec.parameters.assign.externalData
      expect(ext.provider).toBe(mutate)
      expect(ext.dataSource).toBe('ValueAtLocation')
      expect(['Fail', 'Ignore']).toContain(ext.failurePolicy)
      expect(a.spec.applyTo).toEqual([{ groups: [''], kinds: ['Pod'], versions: ['v1'] }])
    }
  })

  it("the deployment patch: real flags, the Deployment's other arguments kept, a budget below the Providers' timeout", () => {
    const [patch] = ofKind('Deployment')
    const deployment = load(join(WEBHOOK_DIR, 'deployment.yaml')).find((d) => d.kind === 'Deployment')
    expect(patch.metadata).toEqual({ name: deployment.metadata.name, namespace: deployment.metadata.namespace })
    const [container] = patch.spec.template.spec.containers
    const [original] = deployment.spec.template.spec.containers
    expect(container.name).toBe(original.name)
    const args: string[] = container.args
    // Strategic merge replaces `args` whole: everything the Deployment passed must still be there.
    expect(args.slice(0, original.args.length)).toEqual(original.args)
    const known = new Set(policyAdmissionWebhookCommand.flags.map((f) => f.name))
    const added = args.slice(original.args.length)
    for (const a of added) expect(known.has(/^--([\w-]+)=/.exec(a)?.[1] ?? ''), a).toBe(true)
    const flag = (name: string) => added.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
    expect(flag('gatekeeper-client-name')).toBe('gatekeeper-webhook-service.gatekeeper-system.svc')
    const budgetMs = Number(/^(\d+)ms$/.exec(flag('gatekeeper-timeout') ?? '')?.[1])
    for (const p of providers) expect(budgetMs).toBeLessThan(p.spec.timeout * 1000)
    // The CA file the flag names is in the mounted ConfigMap volume.
    const ca = flag('gatekeeper-client-ca')!
    const mount = container.volumeMounts.find((m: Doc) => ca.startsWith(`${m.mountPath}/`))
    expect(mount).toBeDefined()
    const volume = patch.spec.template.spec.volumes.find((v: Doc) => v.name === mount.name)
    expect(volume.configMap.name).toBe('gatekeeper-ca')
  })

  it('the CA certificate chain: the webhook certificate is issued by the CA Issuer made from the existing self-signed one', () => {
    const webhookCert = load(join(WEBHOOK_DIR, 'certificate.yaml'))
    const selfSigned = webhookCert.find((d) => d.kind === 'Issuer')
    const caCert = ofKind('Certificate').find((c) => c.spec.isCA === true)
    const caIssuer = ofKind('Issuer')[0]
    expect(caCert.spec.issuerRef.name).toBe(selfSigned.metadata.name)
    expect(caIssuer.spec.ca.secretName).toBe(caCert.spec.secretName)
    const leaf = ofKind('Certificate').find((c) => c.metadata.name === 'countersign-webhook')
    expect(leaf.spec.issuerRef.name).toBe(caIssuer.metadata.name)
    // Same Secret as the Deployment mounts.
    const original = webhookCert.find((d) => d.kind === 'Certificate')
    expect(leaf.spec.secretName).toBe(original.spec.secretName)
    expect(leaf.spec.dnsNames).toEqual(original.spec.dnsNames)
  })
})
