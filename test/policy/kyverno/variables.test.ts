/**
 * Kyverno variable substitution (pkg/engine/variables/vars.go): typed whole-string variables, interpolation with
 * Go's JSON, nesting (innermost first, then a re-scan), `\{{` escapes, shallow `{{- }}`, keys, Kyverno's error
 * texts, and the bounds that keep a hostile context from looping or growing without end.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { CountersignError } from '../../../src/errors.js'
import { loadJMESPathEngine } from '../../../src/policy/kyverno/jmespath.js'
import {
  kyvernoValueHasVariables,
  MAX_SUBSTITUTIONS,
  substituteKyvernoVariables,
} from '../../../src/policy/kyverno/variables.js'

beforeAll(async () => {
  await loadJMESPathEngine()
})

const context = {
  count: 3,
  half: 0.5,
  big: 1e21,
  flag: true,
  nothing: null,
  name: 'app',
  list: ['a', 1],
  obj: { b: 1, a: '<x>&' },
  builder: { id: 'https://github.com/slsa-framework/slsa-github-generator@refs/heads/main' },
  quoted: "it's",
  template: 'x {{ count }}',
  nested: { k: '{{ count }}' },
}

function failure(value: unknown, ctx: unknown = context): CountersignError {
  try {
    substituteKyvernoVariables(value, ctx)
  } catch (e) {
    expect(e).toBeInstanceOf(CountersignError)
    return e as CountersignError
  }
  throw new Error(`${JSON.stringify(value)} did not fail`)
}

describe('substitution', () => {
  it.each([
    ['{{ count }}', 3],
    ['{{count}}', 3],
    ['{{ flag }}', true],
    ['{{ nothing }}', null],
    ['{{ list }}', ['a', 1]],
    ['{{ obj }}', { a: '<x>&', b: 1 }],
    ['{{ name }}', 'app'],
  ])('keeps the JSON type of a string that is exactly one variable: %s', (input, expected) => {
    expect(substituteKyvernoVariables(input, context)).toEqual(expected)
  })

  it.each([
    ['n={{ count }}', 'n=3'],
    ['{{ name }}-{{ count }}', 'app-3'],
    [' {{ name }}', ' app'],
    ['{{ half }}/{{ big }}', '0.5/1e+21'],
    ['v={{ nothing }}', 'v=null'],
    ['v={{ flag }}', 'v=true'],
    ['v={{ list }}', 'v=["a",1]'],
    // Go's json.Marshal: keys sorted, <, > and & escaped.
    ['v={{ obj }}', 'v={"a":"\\u003cx\\u003e\\u0026","b":1}'],
    ['{{count}}{{count}}', '33'],
  ])('pastes values into text as Go does: %s', (input, expected) => {
    expect(substituteKyvernoVariables(input, context)).toBe(expected)
  })

  it('substitutes the innermost variable first and scans again (Kyverno nested form)', () => {
    const expression = "{{ regex_match('^https://github.com/slsa-framework/', '{{ builder.id }}') }}"
    expect(substituteKyvernoVariables(expression, context)).toBe(true)
    expect(substituteKyvernoVariables("{{ to_upper('{{ name }}') }}!", context)).toBe('APP!')
  })

  it('pastes the inner value as raw text, so a quote in it breaks the outer expression (as in Kyverno)', () => {
    const e = failure("{{ to_upper('{{ quoted }}') }}")
    expect(e.details).toMatchObject({ reason: 'substitution' })
    expect(e.message).toMatch(/^failed to resolve to_upper\('it's'\) at path : incorrect query /)
  })

  it('leaves \\{{ alone and drops the backslash at the end', () => {
    expect(substituteKyvernoVariables('\\{{ count }}', context)).toBe('{{ count }}')
    expect(substituteKyvernoVariables('\\{{ count }} and {{ count }}', context)).toBe('{{ count }} and 3')
  })

  it('does not scan the result of a shallow {{- }} again', () => {
    expect(substituteKyvernoVariables('pre {{ template }}', context)).toBe('pre x 3')
    expect(substituteKyvernoVariables('pre {{- template }}', context)).toBe('pre x {{ count }}')
    // A whole-string variable is returned as it is, shallow or not.
    expect(substituteKyvernoVariables('{{ template }}', context)).toBe('x {{ count }}')
  })

  it('walks objects and arrays a variable produced, as Kyverno traversal does', () => {
    expect(substituteKyvernoVariables('{{ nested }}', context)).toEqual({ k: 3 })
    expect(substituteKyvernoVariables(['{{ nested }}', { deep: ['{{ name }}'] }], context)).toEqual([
      { k: 3 },
      { deep: ['app'] },
    ])
  })

  it('substitutes object keys and keeps a key whose variable is null', () => {
    expect(substituteKyvernoVariables({ '{{ name }}': '{{ count }}' }, context)).toEqual({ app: 3 })
    expect(substituteKyvernoVariables({ '{{ nothing }}': 1 }, context)).toEqual({ '{{ nothing }}': 1 })
    expect(failure({ '{{ count }}': 1 }).message).toBe(
      'expected string after substituting variables in key "{{ count }}"',
    )
  })

  it('leaves non-strings and strings without variables untouched, without needing the context', () => {
    const doc = { a: [1, true, null, 'plain {{ text'], b: 'x}}' }
    expect(substituteKyvernoVariables(doc, undefined)).toEqual(doc)
    expect(kyvernoValueHasVariables(doc)).toBe(true)
    expect(kyvernoValueHasVariables({ a: [1, 'b'] })).toBe(false)
    expect(kyvernoValueHasVariables({ '{{ k }}': 1 })).toBe(true)
  })

  it('reads request.oldObject on a DELETE request, as Kyverno does', () => {
    const ctx = { request: { operation: 'DELETE', oldObject: { name: 'old' }, object: null } }
    expect(substituteKyvernoVariables('{{ request.object.name }}', ctx)).toBe('old')
  })
})

describe("Kyverno's error texts", () => {
  it('reports a missing key with the path of the string in the document', () => {
    const e = failure([{ all: [{ key: '{{ builder.missing }}' }] }])
    expect(e.code).toBe('ERR_INVALID_INPUT')
    expect(e.message).toBe(
      'failed to resolve builder.missing at path /0/all/0/key: JMESPath query failed: Unknown key "missing" in path',
    )
  })

  it('reports an empty variable and a syntax error', () => {
    expect(failure('{{ }}').message).toBe('failed to resolve  at path : invalid query (nil)')
    expect(failure('{{ a. }}').message).toMatch(/^failed to resolve a\. at path : incorrect query a\.: /)
  })

  it('refuses {{- }} of something that is not a string (Kyverno panics there)', () => {
    expect(failure('x {{- count }}').message).toMatch(/needs a string value/)
  })

  it('fails on a non-ASCII character right before {{, as Kyverno does', () => {
    expect(failure('é{{ name }}').message).toMatch(/non-ASCII/)
    expect(substituteKyvernoVariables('é {{ name }}', context)).toBe('é app')
  })
})

describe('bounds', () => {
  it('stops a value that expands to itself (Kyverno would loop forever)', () => {
    const e = failure('x{{ self }}', { self: '{{ self }}' })
    expect(e.details).toMatchObject({ reason: 'too-many-substitutions' })
    expect(e.message).toContain(String(MAX_SUBSTITUTIONS))
  })

  it('stops a value that doubles on every round', () => {
    const e = failure('x{{ a }}', { a: `${'y'.repeat(1000)}{{ a }}{{ a }}` })
    expect(['too-large', 'too-many-substitutions']).toContain(e.details?.reason)
  })

  it('stops a value that grows a little on every round (re-scanning it would cost the square of its length)', () => {
    const e = failure('x{{ a }}', { a: `${'y'.repeat(1000)}{{ a }}` })
    expect(e.details).toMatchObject({ reason: 'too-large' })
    expect(e.message).toMatch(/scanned more than/)
  })

  it('stops text that grows past 1 MiB', () => {
    expect(failure('x{{ big }}', { big: 'y'.repeat(2 * 1024 * 1024) }).details).toMatchObject({ reason: 'too-large' })
  })

  it('stops an object that refers to itself through a variable', () => {
    expect(() => substituteKyvernoVariables('{{ loop }}', { loop: { again: '{{ loop }}' } })).toThrow(CountersignError)
  })

  it('refuses documents nested deeper than 512 levels', () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 600; i++) deep = [deep]
    expect(failure(deep).details).toMatchObject({ reason: 'too-deep' })
  })
})
