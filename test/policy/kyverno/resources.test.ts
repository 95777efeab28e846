import { readdirSync, readFileSync, statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import {
  KYVERNO_POD_CONTROLLERS,
  type KyvernoResource,
  kyvernoAutogenRules,
  kyvernoMatchingRuleName,
  kyvernoRuleMatchesResource,
} from '../../../src/policy/kyverno/resources.js'
import type {
  KyvernoMatch,
  KyvernoPolicy,
  KyvernoResourceFilter,
  KyvernoRule,
} from '../../../src/policy/kyverno/types.js'

// Expected outcomes follow Kyverno's pkg/engine/utils/match.go, pkg/utils/match, pkg/utils/kube/kind.go and
// pkg/autogen/v1 at kyverno/kyverno@111e07bb (research spec §4), and the chainsaw tests' outcomes in
// test/vectors/kyverno/PROVENANCE.md.

function policy(rules: KyvernoRule[], extra: Partial<KyvernoPolicy> = {}): KyvernoPolicy {
  return {
    kind: 'ClusterPolicy',
    apiVersion: 'kyverno.io/v1',
    name: 'p',
    validationFailureAction: 'Enforce',
    rules,
    ...extra,
  }
}
function rule(match: KyvernoMatch | undefined, exclude?: KyvernoMatch, name = 'check'): KyvernoRule {
  return { name, ...(match ? { match } : {}), ...(exclude ? { exclude } : {}), verifyImages: [] }
}
const any = (...filters: KyvernoResourceFilter[]): KyvernoMatch => ({ any: filters })
const all = (...filters: KyvernoResourceFilter[]): KyvernoMatch => ({ all: filters })

const pod = (o: Partial<KyvernoResource> = {}): KyvernoResource => ({
  group: '',
  version: 'v1',
  kind: 'Pod',
  name: 'web-1',
  namespace: 'default',
  ...o,
})
const controllerGVK: Record<string, [string, string]> = {
  DaemonSet: ['apps', 'v1'],
  Deployment: ['apps', 'v1'],
  Job: ['batch', 'v1'],
  StatefulSet: ['apps', 'v1'],
  ReplicaSet: ['apps', 'v1'],
  ReplicationController: ['', 'v1'],
  CronJob: ['batch', 'v1'],
}
const controller = (kind: string, o: Partial<KyvernoResource> = {}): KyvernoResource => {
  const [group, version] = controllerGVK[kind]!
  return { group, version, kind, name: 'web', namespace: 'default', ...o }
}
const deployment = (o: Partial<KyvernoResource> = {}): KyvernoResource => controller('Deployment', o)

function matches(match: KyvernoMatch | undefined, resource: KyvernoResource, exclude?: KyvernoMatch): boolean {
  // autogenControllers none: these tables are about match/exclude alone.
  return kyvernoRuleMatchesResource(policy([], { autogenControllers: 'none' }), rule(match, exclude), resource)
}

type Row = readonly [string, KyvernoMatch | undefined, KyvernoResource, boolean]

describe('kinds', () => {
  const rows: Row[] = [
    ['Pod matches a core v1 Pod', any({ kinds: ['Pod'] }), pod(), true],
    ['Pod matches a Pod of any group and version', any({ kinds: ['Pod'] }), pod({ group: 'x', version: 'v9' }), true],
    ['Pod does not match a Deployment', any({ kinds: ['Pod'] }), deployment(), false],
    ['kinds are case-sensitive', any({ kinds: ['pod'] }), pod(), false],
    ['Pod does not match the exec subresource', any({ kinds: ['Pod'] }), pod({ subresource: 'exec' }), false],
    [
      'Pod matches ephemeralcontainers of a core Pod',
      any({ kinds: ['Pod'] }),
      pod({ subresource: 'ephemeralcontainers' }),
      true,
    ],
    [
      'the ephemeralcontainers allowance is only for core v1 Pods',
      any({ kinds: ['Pod'] }),
      pod({ group: 'x', subresource: 'ephemeralcontainers' }),
      false,
    ],
    ['v1/Pod: version v1', any({ kinds: ['v1/Pod'] }), pod(), true],
    ['v2/Pod: another version', any({ kinds: ['v2/Pod'] }), pod(), false],
    ['v1beta1/Pod is a version too', any({ kinds: ['v1beta1/Pod'] }), pod({ version: 'v1beta1' }), true],
    ['*/Pod: any version', any({ kinds: ['*/Pod'] }), pod(), true],
    ['apps/v1/Deployment', any({ kinds: ['apps/v1/Deployment'] }), deployment(), true],
    ['apps/v1/Deployment needs the group', any({ kinds: ['apps/v1/Deployment'] }), deployment({ group: '' }), false],
    ['apps/*/Deployment: version wildcard', any({ kinds: ['apps/*/Deployment'] }), deployment({ version: 'v2' }), true],
    ['Deployment alone: any group', any({ kinds: ['Deployment'] }), deployment(), true],
    [
      'tekton.dev/v1beta1/Task (a dotted group is not a subresource)',
      any({ kinds: ['tekton.dev/v1beta1/Task'] }),
      { group: 'tekton.dev', version: 'v1beta1', kind: 'Task', name: 't' },
      true,
    ],
    [
      'tekton.dev/v1/Task against v1beta1',
      any({ kinds: ['tekton.dev/v1/Task'] }),
      { group: 'tekton.dev', version: 'v1beta1', kind: 'Task', name: 't' },
      false,
    ],
    ['Pod/exec matches the exec subresource', any({ kinds: ['Pod/exec'] }), pod({ subresource: 'exec' }), true],
    ['Pod.exec matches the exec subresource', any({ kinds: ['Pod.exec'] }), pod({ subresource: 'exec' }), true],
    ['Pod/exec does not match the Pod itself', any({ kinds: ['Pod/exec'] }), pod(), false],
    ['v1/Pod/exec', any({ kinds: ['v1/Pod/exec'] }), pod({ subresource: 'exec' }), true],
    ['v1/Pod.exec', any({ kinds: ['v1/Pod.exec'] }), pod({ subresource: 'exec' }), true],
    [
      'apps/v1/Deployment/scale',
      any({ kinds: ['apps/v1/Deployment/scale'] }),
      deployment({ subresource: 'scale' }),
      true,
    ],
    [
      'apps/v1/Deployment.scale',
      any({ kinds: ['apps/v1/Deployment.scale'] }),
      deployment({ subresource: 'scale' }),
      true,
    ],
    ['*/exec: any kind, subresource exec', any({ kinds: ['*/exec'] }), pod({ subresource: 'exec' }), true],
    ['*/*: a Pod', any({ kinds: ['*/*'] }), pod(), true],
    ['*/*: a subresource', any({ kinds: ['*/*'] }), pod({ subresource: 'exec' }), true],
    ['*/*: a Deployment', any({ kinds: ['*/*'] }), deployment(), true],
    ['*: every kind', any({ kinds: ['*'] }), deployment(), true],
    ['*: but no subresource', any({ kinds: ['*'] }), pod({ subresource: 'exec' }), false],
    ['Po?: wildcard in the kind', any({ kinds: ['Po?'] }), pod(), true],
    ['five parts match nothing', any({ kinds: ['a/b/c/d/e'] }), pod(), false],
    ['one of several kinds', any({ kinds: ['Service', 'Pod'] }), pod(), true],
  ]
  it.each(rows)('%s', (_n, m, r, want) => {
    expect(matches(m, r)).toBe(want)
  })
})

describe('names, namespaces, operations, annotations', () => {
  const rows: Row[] = [
    ['names: wildcard', any({ kinds: ['Pod'], names: ['web-*'] }), pod(), true],
    ['names: no match', any({ kinds: ['Pod'], names: ['api-*', 'db'] }), pod(), false],
    ['names: one of several', any({ names: ['api', 'web-?'] }), pod(), true],
    ['namespaces: wildcard', any({ kinds: ['Pod'], namespaces: ['prod-*'] }), pod({ namespace: 'prod-eu' }), true],
    ['namespaces: no match', any({ kinds: ['Pod'], namespaces: ['prod-*'] }), pod({ namespace: 'dev' }), false],
    [
      'namespaces: a Namespace by its own name',
      any({ namespaces: ['prod-*'] }),
      { group: '', version: 'v1', kind: 'Namespace', name: 'prod-x' },
      true,
    ],
    [
      'namespaces: a cluster-scoped resource has the empty namespace',
      any({ namespaces: ['prod-*'] }),
      pod({ namespace: undefined }),
      false,
    ],
    ['namespaces: * matches the empty namespace', any({ namespaces: ['*'] }), pod({ namespace: undefined }), true],
    [
      'operations: listed',
      any({ kinds: ['Pod'], operations: ['CREATE', 'UPDATE'] }),
      pod({ operation: 'UPDATE' }),
      true,
    ],
    ['operations: not listed', any({ kinds: ['Pod'], operations: ['CREATE'] }), pod({ operation: 'DELETE' }), false],
    ['operations: exact, no wildcard', any({ kinds: ['Pod'], operations: ['*'] }), pod({ operation: 'CREATE' }), false],
    ['operations: unknown operation holds in match', any({ kinds: ['Pod'], operations: ['CREATE'] }), pod(), true],
    [
      'annotations: value wildcard',
      any({ annotations: { team: 'pay*' } }),
      pod({ annotations: { team: 'payments' } }),
      true,
    ],
    [
      'annotations: key wildcard',
      any({ annotations: { '*/owner': 'a?' } }),
      pod({ annotations: { 'acme.io/owner': 'ab' } }),
      true,
    ],
    [
      'annotations: every pair needed',
      any({ annotations: { a: '1', b: '2' } }),
      pod({ annotations: { a: '1' } }),
      false,
    ],
    ['annotations: none on the resource', any({ annotations: { a: '*' } }), pod(), false],
    ['annotations: empty map is not a condition', any({ kinds: ['Pod'], annotations: {} }), pod(), true],
  ]
  it.each(rows)('%s', (_n, m, r, want) => {
    expect(matches(m, r)).toBe(want)
  })
})

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'frontend', 'acme.io/team': 'pay' }
  const sel = (selector: KyvernoResourceFilter['selector']) => any({ kinds: ['Pod'], selector })
  const rows: Row[] = [
    ['matchLabels: equal', sel({ matchLabels: { app: 'web' } }), pod({ labels }), true],
    ['matchLabels: different value', sel({ matchLabels: { app: 'api' } }), pod({ labels }), false],
    ['matchLabels: missing label', sel({ matchLabels: { env: 'prod' } }), pod({ labels }), false],
    ['matchLabels: no labels at all', sel({ matchLabels: { app: 'web' } }), pod(), false],
    ['matchLabels: wildcard value', sel({ matchLabels: { tier: 'front*' } }), pod({ labels }), true],
    ['matchLabels: wildcard value, no match', sel({ matchLabels: { tier: 'back*' } }), pod({ labels }), false],
    ['matchLabels: wildcard key', sel({ matchLabels: { '*/team': 'pay' } }), pod({ labels }), true],
    ['matchLabels: * needs the label to exist', sel({ matchLabels: { env: '*' } }), pod({ labels }), false],
    ['In', sel({ matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] }), pod({ labels }), true],
    [
      'In: absent label',
      sel({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }),
      pod({ labels }),
      false,
    ],
    [
      'In: no wildcards',
      sel({ matchExpressions: [{ key: 'app', operator: 'In', values: ['w*'] }] }),
      pod({ labels }),
      false,
    ],
    ['NotIn', sel({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }), pod({ labels }), false],
    [
      'NotIn: absent label holds',
      sel({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }),
      pod({ labels }),
      true,
    ],
    ['Exists', sel({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }), pod({ labels }), true],
    ['Exists: absent', sel({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }), pod({ labels }), false],
    ['DoesNotExist', sel({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }), pod({ labels }), true],
    [
      'DoesNotExist: present',
      sel({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist', values: [] }] }),
      pod({ labels }),
      false,
    ],
    [
      'matchLabels AND matchExpressions',
      sel({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] }),
      pod({ labels }),
      false,
    ],
    ['an empty selector selects everything', sel({}), pod(), true],
  ]
  it.each(rows)('%s', (_n, m, r, want) => {
    expect(matches(m, r)).toBe(want)
  })

  it.each([
    ['an unknown operator', { key: 'app', operator: 'Gt', values: ['1'] }],
    ['In without values', { key: 'app', operator: 'In', values: [] }],
    ['NotIn without values', { key: 'app', operator: 'NotIn' }],
    ['Exists with values', { key: 'app', operator: 'Exists', values: ['x'] }],
  ])('refuses %s (Kyverno refuses the policy)', (_n, e) => {
    expect(() => matches(sel({ matchExpressions: [e] }), pod({ labels }))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })
})

describe('namespaceSelector', () => {
  const nsSel: KyvernoResourceFilter = { kinds: ['Pod'], namespaceSelector: { matchLabels: { signed: 'true' } } }
  it('is evaluated against the namespace labels given', () => {
    expect(matches(any(nsSel), pod({ namespaceLabels: { signed: 'true' } }))).toBe(true)
    expect(matches(any(nsSel), pod({ namespaceLabels: { signed: 'false' } }))).toBe(false)
    expect(matches(any(nsSel), pod({ namespaceLabels: {} }))).toBe(false)
  })

  it('holds in match when the labels are unknown (the rule applies: images are checked)', () => {
    expect(matches(any(nsSel), pod())).toBe(true)
  })

  it('fails in exclude when the labels are unknown (not excluded: images are checked)', () => {
    const exclude = any({ namespaceSelector: { matchLabels: { trusted: 'true' } } })
    expect(matches(any({ kinds: ['Pod'] }), pod(), exclude)).toBe(true)
    expect(matches(any({ kinds: ['Pod'] }), pod({ namespaceLabels: { trusted: 'true' } }), exclude)).toBe(false)
    expect(matches(any({ kinds: ['Pod'] }), pod({ namespaceLabels: { trusted: 'no' } }), exclude)).toBe(true)
  })

  it('matches a cluster-scoped resource against no labels', () => {
    const doesNotExist = any({
      kinds: ['*'],
      namespaceSelector: { matchExpressions: [{ key: 'signed', operator: 'DoesNotExist' }] },
    })
    const cluster = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', name: 'r' }
    expect(matches(doesNotExist, cluster)).toBe(true)
    expect(matches(any({ kinds: ['*'], namespaceSelector: { matchLabels: { signed: 'true' } } }), cluster)).toBe(false)
    // Even when labels are passed for it: a cluster-scoped resource has no namespace.
    expect(matches(doesNotExist, { ...cluster, namespaceLabels: { signed: 'true' } })).toBe(true)
  })

  it('never matches a Namespace object', () => {
    const ns: KyvernoResource = {
      group: '',
      version: 'v1',
      kind: 'Namespace',
      name: 'prod',
      namespaceLabels: { signed: 'true' },
    }
    expect(matches(any({ kinds: ['Namespace'], namespaceSelector: {} }), ns)).toBe(false)
    expect(matches(any({ kinds: ['Namespace'] }), ns)).toBe(true)
  })
})

describe('roles, clusterRoles, subjects (user info countersign does not evaluate)', () => {
  it('hold in match', () => {
    expect(matches(any({ kinds: ['Pod'], roles: ['ns:dev'] }), pod())).toBe(true)
    expect(matches(any({ kinds: ['Pod'], subjects: [{ kind: 'User', name: 'alice' }] }), pod())).toBe(true)
    // The other attributes still count.
    expect(matches(any({ kinds: ['Deployment'], clusterRoles: ['admin'] }), pod())).toBe(false)
    // A filter of user info alone applies to everything (stricter than Kyverno's background scans, see TSDoc).
    expect(matches(any({ clusterRoles: ['admin'] }), pod())).toBe(true)
  })

  it('fail in exclude', () => {
    expect(
      matches(any({ kinds: ['Pod'] }), pod(), any({ kinds: ['Pod'], subjects: [{ kind: 'Group', name: 'ops' }] })),
    ).toBe(true)
    expect(matches(any({ kinds: ['Pod'] }), pod(), any({ clusterRoles: ['cluster-admin'] }))).toBe(true)
  })

  it('an unknown operation fails in exclude', () => {
    expect(matches(any({ kinds: ['Pod'] }), pod(), any({ operations: ['DELETE'] }))).toBe(true)
    expect(matches(any({ kinds: ['Pod'] }), pod({ operation: 'DELETE' }), any({ operations: ['DELETE'] }))).toBe(false)
  })
})

describe('any / all / exclude', () => {
  const rows: (readonly [string, KyvernoMatch | undefined, KyvernoMatch | undefined, KyvernoResource, boolean])[] = [
    ['match.any: one filter suffices', any({ kinds: ['Deployment'] }, { kinds: ['Pod'] }), undefined, pod(), true],
    [
      'match.all: every filter',
      all({ kinds: ['Pod'] }, { namespaces: ['prod'] }),
      undefined,
      pod({ namespace: 'prod' }),
      true,
    ],
    [
      'match.all: one fails',
      all({ kinds: ['Pod'] }, { namespaces: ['prod'] }),
      undefined,
      pod({ namespace: 'dev' }),
      false,
    ],
    [
      'match.any wins over match.all',
      { any: [{ kinds: ['Pod'] }], all: [{ kinds: ['Deployment'] }] },
      undefined,
      pod(),
      true,
    ],
    ['an empty any falls back to all', { any: [], all: [{ kinds: ['Pod'] }] }, undefined, pod(), true],
    ['no match block: nothing matches', undefined, undefined, pod(), false],
    ['an empty match block: nothing matches', {}, undefined, pod(), false],
    ['an empty filter matches nothing', any({}), undefined, pod(), false],
    ['empty lists are no condition, so the filter is empty', any({ kinds: [], names: [] }), undefined, pod(), false],
    [
      'exclude.any: one filter excludes',
      any({ kinds: ['Pod'] }),
      any({ namespaces: ['kube-*'] }, { names: ['x'] }),
      pod({ namespace: 'kube-system' }),
      false,
    ],
    ['exclude.any: none applies', any({ kinds: ['Pod'] }), any({ namespaces: ['kube-*'] }), pod(), true],
    [
      'exclude.all: all must apply',
      any({ kinds: ['Pod'] }),
      all({ namespaces: ['kube-*'] }, { names: ['coredns-*'] }),
      pod({ namespace: 'kube-system' }),
      true,
    ],
    [
      'exclude.all: all apply',
      any({ kinds: ['Pod'] }),
      all({ namespaces: ['kube-*'] }, { names: ['coredns-*'] }),
      pod({ namespace: 'kube-system', name: 'coredns-1' }),
      false,
    ],
    ['an empty exclude filter excludes nothing', any({ kinds: ['Pod'] }), any({}), pod(), true],
    ['an empty exclude block excludes nothing', any({ kinds: ['Pod'] }), {}, pod(), true],
    ['exclude by kind', any({ kinds: ['*'] }), any({ kinds: ['Pod'] }), pod(), false],
  ]
  it.each(rows)('%s', (_n, m, x, r, want) => {
    expect(matches(m, r, x)).toBe(want)
  })
})

describe('namespaced Policy', () => {
  const p = (namespace?: string): KyvernoPolicy =>
    policy([], { kind: 'Policy', autogenControllers: 'none', ...(namespace ? { namespace } : {}) })
  const r = rule(any({ kinds: ['Pod'] }))
  it('applies only to resources in its namespace', () => {
    expect(kyvernoRuleMatchesResource(p('team-a'), r, pod({ namespace: 'team-a' }))).toBe(true)
    expect(kyvernoRuleMatchesResource(p('team-a'), r, pod({ namespace: 'team-b' }))).toBe(false)
    expect(
      kyvernoRuleMatchesResource(p('team-a'), rule(any({ kinds: ['*'] })), {
        group: '',
        version: 'v1',
        kind: 'Node',
        name: 'n',
      }),
    ).toBe(false)
  })
  it('without a namespace in the file, applies everywhere', () => {
    expect(kyvernoRuleMatchesResource(p(), r, pod({ namespace: 'team-b' }))).toBe(true)
  })
  it('a ClusterPolicy with a stray namespace is not limited', () => {
    expect(kyvernoRuleMatchesResource(policy([], { namespace: 'x', autogenControllers: 'none' }), r, pod())).toBe(true)
  })
})

describe('autogen', () => {
  const onPods = rule(any({ kinds: ['Pod'] }))
  const controllers = KYVERNO_POD_CONTROLLERS

  it('lists the seven controllers', () => {
    expect([...controllers].sort()).toEqual([
      'CronJob',
      'DaemonSet',
      'Deployment',
      'Job',
      'ReplicaSet',
      'ReplicationController',
      'StatefulSet',
    ])
  })

  it('extends a rule on Pods to every controller by default', () => {
    const p = policy([onPods])
    expect(kyvernoMatchingRuleName(p, onPods, pod())).toBe('check')
    for (const kind of controllers) {
      expect(kyvernoRuleMatchesResource(p, onPods, controller(kind)), kind).toBe(true)
      expect(kyvernoMatchingRuleName(p, onPods, controller(kind))).toBe(
        kind === 'CronJob' ? 'autogen-cronjob-check' : 'autogen-check',
      )
    }
    // The generated rules name fully qualified kinds: the group counts.
    expect(kyvernoRuleMatchesResource(p, onPods, deployment({ group: '' }))).toBe(false)
    expect(kyvernoRuleMatchesResource(p, onPods, { group: '', version: 'v1', kind: 'Service', name: 's' })).toBe(false)
  })

  it('generates Kyverno’s rules', () => {
    const p = policy([onPods])
    expect(kyvernoAutogenRules(p, onPods)).toEqual([
      {
        name: 'autogen-check',
        match: {
          any: [
            {
              kinds: [
                'apps/v1/DaemonSet',
                'apps/v1/Deployment',
                'batch/v1/Job',
                'apps/v1/ReplicaSet',
                'v1/ReplicationController',
                'apps/v1/StatefulSet',
              ],
            },
          ],
        },
        verifyImages: [],
      },
      { name: 'autogen-cronjob-check', match: { any: [{ kinds: ['batch/v1/CronJob'] }] }, verifyImages: [] },
    ])
  })

  const restricted: readonly (readonly [string | undefined, readonly string[]])[] = [
    [undefined, controllers],
    ['none', []],
    ['all', controllers],
    ['Deployment', ['Deployment']],
    ['Deployment,CronJob', ['Deployment', 'CronJob']],
    ['CronJob', ['CronJob']],
    ['StatefulSet,Job', ['StatefulSet', 'Job']],
    // Kyverno does not trim: ' StatefulSet' is no known controller and is dropped beside a known one.
    ['Deployment, StatefulSet', ['Deployment']],
    ['', []],
  ]
  it.each(restricted.map(([a, kinds]) => [String(a), a, kinds] as const))('autogenControllers %s', (_n, a, kinds) => {
    const p = policy([onPods], a === undefined ? {} : { autogenControllers: a })
    for (const kind of controllers) {
      expect(kyvernoRuleMatchesResource(p, onPods, controller(kind)), kind).toBe(kinds.includes(kind))
    }
    expect(kyvernoRuleMatchesResource(p, onPods, pod())).toBe(true)
  })

  it('uses unknown controller names as kinds when no known one is named (Kyverno’s quirk)', () => {
    const p = policy([onPods], { autogenControllers: 'Rollout' })
    expect(
      kyvernoRuleMatchesResource(p, onPods, { group: 'argoproj.io', version: 'v1alpha1', kind: 'Rollout', name: 'r' }),
    ).toBe(true)
    expect(kyvernoRuleMatchesResource(p, onPods, deployment())).toBe(false)
  })

  it('keeps the other attributes of the filters', () => {
    const r = rule(
      any({ kinds: ['Pod'], namespaces: ['prod-*'], namespaceSelector: { matchLabels: { signed: 'true' } } }),
      any({ namespaces: ['prod-legacy'] }),
    )
    const p = policy([r])
    expect(
      kyvernoRuleMatchesResource(p, r, deployment({ namespace: 'prod-eu', namespaceLabels: { signed: 'true' } })),
    ).toBe(true)
    expect(
      kyvernoRuleMatchesResource(p, r, deployment({ namespace: 'prod-eu', namespaceLabels: { signed: 'no' } })),
    ).toBe(false)
    expect(
      kyvernoRuleMatchesResource(p, r, deployment({ namespace: 'dev', namespaceLabels: { signed: 'true' } })),
    ).toBe(false)
    expect(
      kyvernoRuleMatchesResource(
        p,
        r,
        controller('CronJob', { namespace: 'prod-legacy', namespaceLabels: { signed: 'true' } }),
      ),
    ).toBe(false)
    // The CronJob rule puts its kind on every filter, exclude's too (harmless for a CronJob).
    expect(kyvernoAutogenRules(p, r)[1]!.exclude).toEqual({
      any: [{ namespaces: ['prod-legacy'], kinds: ['batch/v1/CronJob'] }],
    })
  })

  it.each([
    ['names', any({ kinds: ['Pod'], names: ['web-*'] })],
    ['a selector', any({ kinds: ['Pod'], selector: { matchLabels: { app: 'web' } } })],
    ['annotations (even empty)', any({ kinds: ['Pod'], annotations: {} })],
    ['Pod mixed with another kind', any({ kinds: ['Pod', 'Service'] })],
  ])('is off for the whole policy when a filter has %s', (_n, m) => {
    const p = policy([rule(m, undefined, 'blocker'), onPods])
    expect(kyvernoAutogenRules(p, onPods)).toEqual([])
    expect(kyvernoRuleMatchesResource(p, onPods, deployment())).toBe(false)
  })

  it('is off for a rule whose exclude names kinds but not Pod', () => {
    const r = rule(any({ kinds: ['Pod'] }), any({ kinds: ['Service'] }))
    expect(kyvernoAutogenRules(policy([r]), r)).toEqual([])
    const withPod = rule(any({ kinds: ['Pod'] }), any({ kinds: ['Pod'], namespaces: ['kube-system'] }))
    const p = policy([withPod])
    expect(kyvernoRuleMatchesResource(p, withPod, deployment())).toBe(true)
    expect(kyvernoRuleMatchesResource(p, withPod, deployment({ namespace: 'kube-system' }))).toBe(false)
  })

  it('is off when no filter names the plain kind Pod or a controller (v1/Pod is not enough)', () => {
    const r = rule(any({ kinds: ['v1/Pod'] }))
    expect(kyvernoRuleMatchesResource(policy([r]), r, pod())).toBe(true)
    expect(kyvernoRuleMatchesResource(policy([r]), r, deployment())).toBe(false)
    // Another rule naming Pod makes autogen needed; the v1/Pod rule then gets its own.
    expect(kyvernoRuleMatchesResource(policy([r, onPods]), r, deployment())).toBe(true)
  })

  it('leaves rules that do not match Pods, and rules named autogen-*', () => {
    const onDeployments = rule(any({ kinds: ['Deployment'] }))
    expect(kyvernoAutogenRules(policy([onDeployments, onPods]), onDeployments)).toEqual([])
    const named = rule(any({ kinds: ['Pod'] }), undefined, 'autogen-mine')
    expect(kyvernoAutogenRules(policy([named]), named)).toEqual([])
  })

  it('cuts generated names at 63 characters', () => {
    const long = rule(any({ kinds: ['Pod'] }), undefined, 'x'.repeat(60))
    const names = kyvernoAutogenRules(policy([long]), long).map((r) => r.name)
    expect(names).toEqual([`autogen-${'x'.repeat(55)}`, `autogen-cronjob-${'x'.repeat(47)}`])
  })

  it('applies the namespaced Policy limit to generated rules too', () => {
    const p = policy([onPods], { kind: 'Policy', namespace: 'team-a' })
    expect(kyvernoRuleMatchesResource(p, onPods, deployment({ namespace: 'team-a' }))).toBe(true)
    expect(kyvernoRuleMatchesResource(p, onPods, deployment({ namespace: 'team-b' }))).toBe(false)
  })
})

describe('hostile input', () => {
  it('returns on long wildcard patterns and names', () => {
    const long = `${'*a'.repeat(5000)}b`
    expect(matches(any({ kinds: ['Pod'], names: [long] }), pod({ name: 'a'.repeat(10_000) }))).toBe(false)
    expect(
      matches(
        any({ annotations: { [long]: long } }),
        pod({ annotations: { ['a'.repeat(10_000)]: 'a'.repeat(10_000) } }),
      ),
    ).toBe(false)
    expect(matches(any({ kinds: [`${'a/'.repeat(5000)}Pod`] }), pod())).toBe(false)
  })
})

// The chainsaw tests' policies, read as countersign's parser will (match/exclude only): each applied resource is
// matched, except where PROVENANCE.md says the rule does not match (keyed-basic-namespace-selector's unprotected ns).
const chainsawRoot = new URL('../../vectors/kyverno/chainsaw/', import.meta.url)
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents, read field by field
type Yaml = Record<string, any>

function toFilter(f: Yaml): KyvernoResourceFilter {
  const { resources = {}, roles, clusterRoles, subjects } = f
  return {
    ...resources,
    ...(roles ? { roles } : {}),
    ...(clusterRoles ? { clusterRoles } : {}),
    ...(subjects ? { subjects } : {}),
  }
}
function toMatch(m: Yaml | undefined): KyvernoMatch | undefined {
  if (m === undefined) return undefined
  if (m.resources) return { any: [toFilter(m)] }
  return { ...(m.any ? { any: m.any.map(toFilter) } : {}), ...(m.all ? { all: m.all.map(toFilter) } : {}) }
}
function toPolicy(doc: Yaml): KyvernoPolicy {
  const autogen = doc.metadata.annotations?.['pod-policies.kyverno.io/autogen-controllers']
  return {
    kind: doc.kind,
    apiVersion: doc.apiVersion,
    name: doc.metadata.name,
    ...(doc.metadata.namespace ? { namespace: doc.metadata.namespace } : {}),
    validationFailureAction: 'Audit',
    ...(autogen !== undefined ? { autogenControllers: autogen } : {}),
    rules: (doc.spec.rules as Yaml[])
      .filter((r) => r.verifyImages)
      .map((r) => ({ name: r.name, match: toMatch(r.match), exclude: toMatch(r.exclude), verifyImages: [] })),
  }
}
function docs(dir: URL, file: string): Yaml[] {
  return parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))
    .map((d) => d.toJS() as Yaml)
    .filter(Boolean)
}
function resourceOf(doc: Yaml, nsLabels: Map<string, Record<string, string>>): KyvernoResource {
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion]
  const namespace: string | undefined = doc.metadata.namespace
  const labels = namespace === undefined ? undefined : nsLabels.get(namespace)
  return {
    group,
    version,
    kind: doc.kind,
    name: doc.metadata.name,
    ...(namespace ? { namespace } : {}),
    operation: 'CREATE',
    ...(doc.metadata.labels ? { labels: doc.metadata.labels } : {}),
    ...(labels ? { namespaceLabels: labels } : {}),
  }
}

const chainsawDirs = ['standard', 'cornercases'].flatMap((g) =>
  readdirSync(new URL(`${g}/`, chainsawRoot))
    .filter((d) => statSync(new URL(`${g}/${d}`, chainsawRoot)).isDirectory())
    .map((d) => `${g}/${d}`),
)

interface ChainsawCase {
  readonly dir: string
  readonly policies: readonly KyvernoPolicy[]
  readonly resources: readonly { file: string; resource: KyvernoResource }[]
}
function loadChainsaw(path: string): ChainsawCase {
  const dir = new URL(`${path}/`, chainsawRoot)
  const test = parse(readFileSync(new URL('chainsaw-test.yaml', dir), 'utf8')) as Yaml
  const applied: string[] = []
  for (const step of test.spec.steps as Yaml[]) {
    for (const op of step.try ?? []) if (op.apply?.file) applied.push(op.apply.file)
    for (const b of step.use?.with?.bindings ?? []) if (b.name === 'file') applied.push(b.value)
  }
  const all = applied.flatMap((file) => docs(dir, file).map((doc) => ({ file, doc })))
  const nsLabels = new Map<string, Record<string, string>>(
    all.filter((x) => x.doc.kind === 'Namespace').map((x) => [x.doc.metadata.name, x.doc.metadata.labels ?? {}]),
  )
  return {
    dir: path,
    policies: all
      .filter(
        (x) => ['ClusterPolicy', 'Policy'].includes(x.doc.kind) && x.doc.spec.rules.some((r: Yaml) => r.verifyImages),
      )
      .map((x) => toPolicy(x.doc)),
    resources: all
      .filter((x) => ['Pod', 'Task', 'Deployment'].includes(x.doc.kind))
      .map((x) => ({ file: x.file, resource: resourceOf(x.doc, nsLabels) })),
  }
}

describe('chainsaw policies (test/vectors/kyverno/chainsaw)', () => {
  const cases = chainsawDirs.map(loadChainsaw)

  it('reads all 21 tests, each with one verifyImages policy and at least one resource', () => {
    expect(cases).toHaveLength(21)
    for (const c of cases) {
      expect(c.policies, c.dir).toHaveLength(1)
      expect(c.resources.length, c.dir).toBeGreaterThan(0)
    }
  })

  const notMatched = new Set(['standard/keyed-basic-namespace-selector/pod-unprotected-ns.yaml'])
  it.each(cases.map((c) => [c.dir, c] as const))('%s: every rule applies to the applied resources', (_n, c) => {
    const p = c.policies[0]!
    for (const { file, resource } of c.resources) {
      const want = !notMatched.has(`${c.dir}/${file}`)
      for (const r of p.rules) expect(kyvernoRuleMatchesResource(p, r, resource), `${file} ${r.name}`).toBe(want)
    }
  })

  it('keyed-basic-namespace-selector: the selector decides with labels, and holds without them', () => {
    const c = cases.find((x) => x.dir === 'standard/keyed-basic-namespace-selector')!
    const p = c.policies[0]!
    const byFile = new Map(c.resources.map((x) => [x.file, x.resource]))
    expect([...byFile.keys()].sort()).toEqual([
      'chainsaw-step-02-apply-1.yaml',
      'pod-signed.yaml',
      'pod-unprotected-ns.yaml',
      'pod-unsigned.yaml',
    ])
    expect(byFile.get('pod-unsigned.yaml')!.namespaceLabels).toEqual({ signed: 'true' })
    const unprotected = byFile.get('pod-unprotected-ns.yaml')!
    expect(unprotected.namespaceLabels).toEqual({ signed: 'false' })
    expect(kyvernoRuleMatchesResource(p, p.rules[0]!, unprotected)).toBe(false)
    const { namespaceLabels: _, ...unknown } = unprotected
    expect(kyvernoRuleMatchesResource(p, p.rules[0]!, unknown)).toBe(true)
  })

  it('autogen follows each policy’s annotation and kinds', () => {
    for (const c of cases) {
      const p = c.policies[0]!
      const filters = p.rules.flatMap((r) => [...(r.match?.any ?? []), ...(r.match?.all ?? [])])
      const onPods = filters.every((f) => f.kinds?.length === 1 && f.kinds[0] === 'Pod')
      const expected = onPods && p.autogenControllers !== 'none'
      for (const r of p.rules) {
        expect(kyvernoRuleMatchesResource(p, r, deployment()), `${c.dir} ${r.name}`).toBe(expected)
        expect(kyvernoRuleMatchesResource(p, r, controller('CronJob')), `${c.dir} ${r.name}`).toBe(expected)
      }
    }
    const tasks = cases.find((x) => x.dir === 'standard/imageExtractors-simple')!.policies[0]!
    expect(kyvernoRuleMatchesResource(tasks, tasks.rules[0]!, pod())).toBe(false)
    expect(kyvernoAutogenRules(tasks, tasks.rules[0]!)).toEqual([])
  })
})
