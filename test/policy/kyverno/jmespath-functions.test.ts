/**
 * Kyverno's JMESPath functions, one table per function. Rows marked "upstream" carry the expression and expected
 * value of kyverno/kyverno@111e07bb pkg/engine/jmespath/{functions,time,arithmetic}_test.go; the others follow the
 * Go source those functions call (strings, regexp, time, k8s resource.Quantity, blang/semver).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { CountersignError } from '../../../src/errors.js'
import { loadJMESPathEngine, searchKyvernoJMESPath } from '../../../src/policy/kyverno/jmespath.js'
import { kyvernoJMESPathFunctionNames } from '../../../src/policy/kyverno/jmespath-functions.js'

beforeAll(async () => {
  await loadJMESPathEngine()
})

const NOW = new Date('2024-01-01T00:00:00Z')
const run = (expression: string, data: unknown = null) => searchKyvernoJMESPath(expression, data, { now: NOW })

function failure(expression: string, data: unknown = null): string {
  try {
    run(expression, data)
  } catch (e) {
    expect(e).toBeInstanceOf(CountersignError)
    expect((e as CountersignError).code).toBe('ERR_INVALID_INPUT')
    return (e as Error).message
  }
  throw new Error(`${expression} did not fail`)
}

type Row = readonly [expression: string, expected: unknown, data?: unknown]

function table(name: string, rows: readonly Row[], failing: readonly (string | readonly [string, RegExp])[] = []) {
  describe(name, () => {
    it.each(rows.map((r) => [r[0], r] as const))('%s', (_e, [expression, expected, data]) => {
      expect(run(expression, data ?? null)).toEqual(expected)
    })
    for (const f of failing) {
      const [expression, pattern] = typeof f === 'string' ? [f, /./] : f
      it(`fails: ${expression}`, () => {
        expect(failure(expression)).toMatch(pattern)
      })
    }
  })
}

it('offers the functions Kyverno documents (the ones that need no I/O)', () => {
  const names = kyvernoJMESPathFunctionNames()
  for (const name of [
    'compare',
    'equal_fold',
    'replace',
    'replace_all',
    'to_upper',
    'to_lower',
    'trim',
    'trim_prefix',
    'split',
    'truncate',
    'base64_decode',
    'base64_encode',
    'regex_match',
    'regex_replace_all',
    'regex_replace_all_literal',
    'pattern_match',
    'label_match',
    'to_boolean',
    'parse_json',
    'parse_yaml',
    'lookup',
    'items',
    'object_from_lists',
    'image_normalize',
    'add',
    'subtract',
    'multiply',
    'divide',
    'modulo',
    'sum',
    'round',
    'semver_compare',
    'time_since',
    'time_now',
    'time_now_utc',
    'time_add',
    'time_parse',
    'time_utc',
    'time_diff',
    'time_before',
    'time_after',
    'time_between',
    'time_truncate',
    'time_to_cron',
    'path_canonicalize',
    'sha256',
    'sha1',
    'md5',
  ]) {
    expect(names, name).toContain(name)
  }
  for (const skipped of ['random', 'x509_decode', 'is_external_url']) expect(names).not.toContain(skipped)
})

table(
  'compare',
  [
    ["compare('a', 'a')", 0], // upstream
    ["compare('a', 'b')", -1], // upstream
    ["compare('b', 'a')", 1], // upstream
    ["compare('\u{1F600}', '\uFFFF')", 1], // Go's byte order, not UTF-16's
  ],
  [["compare(`1`, 'b')", /Invalid type for: 1/]],
)

table('equal_fold', [
  ["equal_fold('Go', 'go')", true], // upstream
  ["equal_fold('a', 'b')", false], // upstream
  ["equal_fold('1', 'b')", false], // upstream
  ["equal_fold('ÉCOLE', 'école')", true],
  ["equal_fold('ß', 'SS')", false], // simple folding only, as Go
])

table(
  'replace and replace_all (Kyverno, not the community replace)',
  [
    ["replace('Lorem ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)", 'Lorem muspi dolor sit amet'], // upstream
    [
      "replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)",
      'Lorem muspi muspi muspi dolor sit amet',
    ], // upstream
    [
      "replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `1`)",
      'Lorem muspi ipsum ipsum dolor sit amet',
    ], // upstream
    ["replace('aaa', 'a', 'b', `0`)", 'aaa'],
    ["replace('ab', '', '-', `-1`)", '-a-b-'],
    ["replace('ab', '', '-', `2`)", '-a-b'],
    ["replace_all('Lorem ipsum dolor sit amet', 'ipsum', 'muspi')", 'Lorem muspi dolor sit amet'], // upstream
  ],
  [["replace('a', 'a', 'b')", /incorrect number of args/], "replace_all('a', `1`, 'b')"],
)

table('to_upper and to_lower (per code point, as Go)', [
  ["to_upper('abc')", 'ABC'], // upstream
  ["to_upper('123')", '123'], // upstream
  ["to_upper('a#%&123Bc')", 'A#%&123BC'], // upstream
  ["to_lower('ABC')", 'abc'], // upstream
  ["to_lower('a#%&123Bc')", 'a#%&123bc'], // upstream
  ["to_upper('straße')", 'STRAßE'], // JavaScript alone would give STRASSE
  ["to_lower('İ')", 'i'],
])

table('trim, trim_prefix, split, truncate (Kyverno, not the community trim and split)', [
  ["trim('¡¡¡Hello, Gophers!!!', '!¡')", 'Hello, Gophers'], // upstream
  ["trim('xx', '')", 'xx'],
  ["trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hello, ')", 'Gophers!!!'], // upstream
  ["trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hola, ')", '¡¡¡Hello, Gophers!!!'], // upstream
  ["split('Hello, Gophers', ', ')", ['Hello', 'Gophers']], // upstream
  ["split('a😀b', '')", ['a', '😀', 'b']],
  ["split('', ',')", ['']],
  ["truncate('Lorem ipsum dolor sit amet', `5`)", 'Lorem'], // upstream
  ["truncate('Lorem ipsum ipsum ipsum dolor sit amet', `40`)", 'Lorem ipsum ipsum ipsum dolor sit amet'], // upstream
  ["truncate('Lorem ipsum', `2.6`)", 'Lo'], // upstream
  ["truncate('Lorem ipsum', `0`)", ''], // upstream
  ["truncate('Lorem ipsum', `-1`)", ''], // upstream
  ["truncate('😀😀😀', `2`)", '😀😀'],
])

table(
  'base64_encode, base64_decode (standard, padded)',
  [
    ["base64_decode('SGVsbG8sIHdvcmxkIQ==')", 'Hello, world!'], // upstream
    ["base64_encode('Hello, world!')", 'SGVsbG8sIHdvcmxkIQ=='], // upstream
    ["base64_decode('Rm9v\nQmFy')", 'FooBar'], // CR/LF ignored, as Go's decoder
  ],
  ["base64_decode('Zm9v-_')", "base64_decode('Zm9vYg')", 'base64_decode(`1`)'],
)

table('sha256, sha1, md5 (hex of the UTF-8 bytes)', [
  ["sha256('x')", '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881'],
  ["sha1('x')", '11f6ad8ec52a2984abaafd7c3b516503785c2072'],
  ["md5('x')", '9dd4e461268c8034f5c8564e155c67a6'],
])

table('path_canonicalize (filepath.Join on Linux)', [
  ["path_canonicalize('///')", '/'], // upstream
  ["path_canonicalize('/var/run///containerd////')", '/var/run/containerd'], // upstream
  ["path_canonicalize('/run/../etc')", '/etc'], // upstream
  ["path_canonicalize('///etc*')", '/etc*'], // upstream
  ["path_canonicalize('/../../')", '/'], // upstream
  ["path_canonicalize('a/../../b')", '../b'],
  ["path_canonicalize('')", ''],
])

table(
  'regex_match (RE2, unanchored)',
  [
    ["regex_match('12.*', foo)", true, { foo: "hgf'b1a2r'b12g" }], // upstream
    ["regex_match('12.*', abs(foo))", true, { foo: -12 }], // upstream
    ["regex_match('^https://github\\.com/acme/', 'https://github.com/acme/app')", true],
    ["regex_match('(?i)^ACME$', 'acme')", true],
    ["regex_match('^\\pL+$', 'héllo')", true],
    ["regex_match('^1.5$', `1.5`)", true], // numbers become text as Go's float32 formatting gives them
    ["regex_match('^(a+)+$', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!')", false], // linear time, no backtracking
  ],
  [
    ["regex_match('(?=a)', 'a')", /look-around/],
    ["regex_match('(a)\\1', 'aa')", /backreference/],
    ["regex_match('(', 'a')", /missing closing \)/],
    ["regex_match('a', `[]`)", /Invalid type/],
  ],
)

table('regex_replace_all and regex_replace_all_literal', [
  // upstream: ${2} names no group, so it expands to nothing
  [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Go regexp template, not a JavaScript one
    "regex_replace_all('([Hh]e|G)l', spec.field, '${2}G')",
    'Glo world, Gworldlo',
    { spec: { field: 'Hello world, helworldlo' } },
  ],
  [
    "regex_replace_all_literal('[Hh]el?', spec.field, 'G')",
    'Glo world, Gworldlo',
    { spec: { field: 'Hello world, helworldlo' } },
  ], // upstream
  ["regex_replace_all('(\\w+)@(\\w+)', 'ann@acme', '$2/$1')", 'acme/ann'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Go regexp template, not a JavaScript one
  ["regex_replace_all('(?P<user>\\w+)@', 'ann@acme', '${user}:')", 'ann:acme'],
  ["regex_replace_all('(a)', 'a', '$1x')", ''], // Go reads $1x as the group named "1x"
  ["regex_replace_all('a', 'a', '$$')", '$'],
  ["regex_replace_all('a*', 'baaac', 'X')", 'XbXcX'], // Go's empty-match rule
  ["regex_replace_all_literal('a', 'aa', '$1')", '$1$1'],
  ["regex_replace_all('1', `10`, `2`)", '20'],
])

table('pattern_match (Kyverno wildcards)', [
  ["pattern_match('prefix-*', foo)", true, { foo: 'prefix-foo' }], // upstream
  ["pattern_match('12*', abs(foo))", true, { foo: -12 }], // upstream
  ["pattern_match('ghcr.io/acme/?', 'ghcr.io/acme/ab')", false],
])

table('label_match', [
  // upstream rows, over the labels {app: test-app, controller-name: test-controller}
  [
    'label_match(`{ "app": "test-app" }`, metadata.labels)',
    true,
    { metadata: { labels: { app: 'test-app', 'controller-name': 'test-controller' } } },
  ],
  ['label_match(`{ "app": "test-app2" }`, metadata.labels)', false, { metadata: { labels: { app: 'test-app' } } }],
  [
    'label_match(`{ "app.kubernetes.io/name": "test-app" }`, metadata.labels)',
    false,
    { metadata: { labels: { app: 'test-app' } } },
  ],
])

table(
  'to_boolean',
  [
    ["to_boolean('true')", true], // upstream
    ["to_boolean('TRue')", true], // upstream
    ["to_boolean('FaLse')", false], // upstream
  ],
  [["to_boolean('FaLsee')", /must be 'true' or 'false'/], "to_boolean('foo')", 'to_boolean(`1`)'],
)

table(
  'parse_json and parse_yaml',
  [
    ...['{"a":"b"}', 'true', '[1,2,3,{"a":"b"}]', 'null', '[]', '{}', '0', '1.2', '[1.2,true,{"a":{"a":"b"}}]'].map(
      (json) => [`to_string(parse_json('${json}'))`, json] as const, // upstream serde round trips
    ),
    ['parse_json(\'{"a": [1, 2, 3, 4]}\').a[0]', 1], // upstream
    ['parse_json(\'[1, 2, {"a": {"b": {"c": [1, 2]}}}]\')[2].a.b.c[1]', 2], // upstream
    ["parse_yaml('a: b')", { a: 'b' }], // upstream
    ["parse_yaml('spec:\n  test: 1\n  test2:\n    - 2\n    - 3\n')", { spec: { test: 1, test2: [2, 3] } }], // upstream
    ["parse_yaml('---\nfoo: ~\nbar: null\n')", { foo: null, bar: null }], // upstream
  ],
  ["parse_json('{')", "parse_json('1e400')", "parse_yaml('a: [')"],
)

table(
  'lookup',
  [
    ['lookup(`{}`, `"key1"`)', null], // upstream
    ['lookup(`{"key1": "value1"}`, `"key1"`)', 'value1'], // upstream
    ['lookup(`{"": "value1"}`, `""`)', 'value1'], // upstream
    ['lookup(`{"k": [7, "x", true]}`, `"k"`)', [7, 'x', true]], // upstream
    ['lookup(`[]`, `0`)', null], // upstream
    ['lookup(`["item0"]`, `-1`)', null], // upstream
    ['lookup(`["item0", "item1", "item2", "item3"]`, `2`)', 'item2'], // upstream
    ['lookup(`["item0", "item1"]`, `0.99999999999999999999999999999999999999999999`)', 'item1'], // upstream
    ['lookup(`{"toString": 1}`, `"toString"`)', 1],
    ['lookup(`{}`, `"toString"`)', null],
  ],
  [
    ['lookup(`{}`, `123`)', /argument #2 is not of type String/], // upstream
    ['lookup(`[]`, `"abc"`)', /argument #2 is not of type Number/], // upstream
    ['lookup(`[]`, `1.5`)', /JMESPath function 'lookup': argument #2: expected an integer number but got: 1.5/], // upstream
  ],
)

table('items (Kyverno: sorted keys, caller-named fields; not the community pairs)', [
  ['items(`{ "key1": "value1" }`, `"key"`, `"value"`)', [{ key: 'key1', value: 'value1' }]], // upstream
  [
    'items(`{ "key2": "value2", "key1": "value1" }`, `"myKey"`, `"myValue"`)',
    [
      { myKey: 'key1', myValue: 'value1' },
      { myKey: 'key2', myValue: 'value2' },
    ],
  ], // upstream
  [
    'items(`["A", "B"]`, `"myKey"`, `"myValue"`)',
    [
      { myKey: 0, myValue: 'A' },
      { myKey: 1, myValue: 'B' },
    ],
  ], // upstream
])

table(
  'object_from_lists',
  [
    ['object_from_lists(`["key1", "key2"]`, `["1", "2"]`)', { key1: '1', key2: '2' }], // upstream
    ['object_from_lists(`["key1", "key2"]`, `[1, "2"]`)', { key1: 1, key2: '2' }], // upstream
    ['object_from_lists(`["key1", "key2"]`, `[1]`)', { key1: 1, key2: null }], // upstream
    ['object_from_lists(`[1.5, true]`, `["a", "b"]`)', { '1.5': 'a', true: 'b' }],
  ],
  ['object_from_lists(`[null]`, `[1]`)'],
)

table(
  'semver_compare (blang/semver ranges)',
  [
    ["semver_compare('4.1.3','>=4.1.x')", true], // upstream
    ["semver_compare('4.1.3','!4.x.x')", false], // upstream
    ["semver_compare('1.8.6','>1.0.0 <2.0.0')", true], // upstream
    ["semver_compare('2.1.5','<2.0.0 || >=3.0.0')", false], // upstream
    ["semver_compare('1.2.3','1.2.x')", true],
    ["semver_compare('1.3.0','1.2.x')", false],
    ["semver_compare('1.0.0-rc.1','<1.0.0')", true],
    ["semver_compare('v1.2.3','<0.0.1')", true], // an unparsable version is 0.0.0
    ["semver_compare('1.2.3','>= 1.2.0')", true],
  ],
  ["semver_compare('1.2.3','>=x')", "semver_compare('1.2.3','|| 1.0.0')"],
)

table(
  'image_normalize (Kyverno image names)',
  [
    ["image_normalize('nginx')", 'docker.io/nginx:latest'], // upstream
    ["image_normalize('docker.io/library/nginx')", 'docker.io/library/nginx:latest'], // upstream
    ["image_normalize('ghcr.io/nginx:1.2')", 'ghcr.io/nginx:1.2'], // upstream
  ],
  [["image_normalize('')", /image_normalize/]], // upstream: an error
)

table(
  'add, subtract, sum (numbers, quantities, durations)',
  [
    ['add(`12`, `13`)', 25],
    ["add('12Ki', '200M')", '200012288'],
    ["add('1Gi', '512Mi')", '1536Mi'],
    ["add('1h', '1s')", '1h0m1s'],
    ["add('1.5', '0.5')", '2'],
    ["add('0', '1Ki')", '1Ki'], // a zero first operand takes the second's format
    ['subtract(`12`, `13`)', -1],
    ["subtract('1Gi', '512Mi')", '512Mi'],
    ["subtract('12s', '1h')", '-59m48s'],
    ['sum(`[12, 13, 14]`)', 39],
    ['sum(`["1Gi", "1Mi"]`)', '1025Mi'],
    ['sum(`["1h", "30s", "1ms"]`)', '1h0m30.001s'],
    ['sum(`[true]`)', true], // a single element comes back as it is
  ],
  [
    ["add('5', `3`)", /Types mismatch/], // "5" is a quantity
    ["add('1h', '30m')", /Types mismatch/], // "30m" is 30 milli, a quantity
    ["add('abc', '1')", /invalid operand/],
    ['sum(`[]`)', /at least one element/],
    // A multi-select over null data is null (go-jmespath), so sum gets no array.
    ["sum(['1Gi'])", /Invalid type for: <nil>/],
  ],
)

table(
  'multiply, divide, modulo, round',
  [
    ['multiply(`3`, `4`)', 12],
    ["multiply('12Mi', `2`)", '24Mi'],
    ["multiply(`2`, '1h')", '2h0m0s'],
    ["multiply('1m', `0.5`)", '500u'],
    ['divide(`12`, `4`)', 3],
    ["divide('12Mi', '4Mi')", 3],
    ["divide('10', `3`)", '3'], // truncated at the operands' scale
    ["divide('10.0', `3`)", '3300m'],
    ["divide('1h', '30m0s')", 2],
    ["divide('1h', `2`)", '30m0s'],
    ['modulo(`13`, `4`)', 1],
    ['modulo(`-13`, `4`)', -1],
    ["modulo('13Ki', '4Ki')", '1Ki'],
    ["modulo('13s', '4s')", '1s'],
    ['round(`3.14159`, `2`)', 3.14],
    ['round(`2.5`, `0`)', 3],
    ['round(`-2.5`, `0`)', -3], // away from zero, as Go's math.Round
  ],
  [
    ['divide(`1`, `0`)', /Zero divisor passed/],
    ["divide('1Ki', '0')", /Zero divisor passed/],
    ['modulo(`1.5`, `1`)', /Non-integer/],
    ['modulo(`1`, `0`)', /Zero divisor passed/],
    ["multiply('1Ki', '1Ki')", /Types mismatch/],
    ['round(`1`, `1.5`)', /Non-integer/],
  ],
)

table(
  'time functions',
  [
    ["time_since('', '2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')", '180h10m0s'], // upstream
    [
      "time_since('Mon Jan _2 15:04:05 MST 2006', 'Mon Jan 02 15:04:05 MST 2021', 'Mon Jan 10 03:14:16 MST 2021')",
      '180h10m11s',
    ], // upstream
    ["time_since('', '2023-12-31T23:59:58.5Z', '')", '1.5s'], // the end defaults to the clock given
    ["time_to_cron('2023-02-02T15:04:05Z')", '4 15 2 2 4'], // upstream
    ["time_to_cron(time_utc('2023-02-02T15:04:05-07:00'))", '4 22 2 2 4'], // upstream
    ["time_add('2021-01-02T15:04:05-07:00', '3h')", '2021-01-02T18:04:05-07:00'], // upstream
    [
      "time_add(time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021'), '5h30m40s')",
      '2021-01-02T20:34:45-07:00',
    ], // upstream
    ["time_parse('2006-01-02T15:04:05Z07:00', '2021-01-02T15:04:05-07:00')", '2021-01-02T15:04:05-07:00'], // upstream
    ["time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021')", '2021-01-02T15:04:05-07:00'], // upstream
    ["time_parse('1702691171', '1702691171')", '2023-12-16T01:46:11Z'], // upstream
    ["time_parse('02/01/2006 3:04PM', '25/12/2023 9:30PM')", '2023-12-25T21:30:00Z'],
    ["time_parse('2006-01-02 15:04:05.000', '2023-12-25 09:30:00.125')", '2023-12-25T09:30:00Z'],
    ["time_parse('Jan _2 2006 MST', 'Feb  3 2024 PST')", '2024-02-03T00:00:00Z'], // an unknown zone has offset 0
    ["time_parse('Jan _2 2006 MST', 'Feb  3 2024 GMT-3')", '2024-02-02T21:00:00-03:00'], // Go's GMT±n quirk
    ["time_parse('2006 002', '2024 060')", '2024-02-29T00:00:00Z'],
    ["time_utc('2023-02-02T15:04:05Z')", '2023-02-02T15:04:05Z'], // upstream
    ["time_utc('2023-02-02T15:04:05-07:00')", '2023-02-02T22:04:05Z'], // upstream
    ["time_diff('2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')", '180h10m0s'], // upstream
    ["time_diff('2021-01-01T00:00:00Z', '2021-01-01T00:00:00.000001Z')", '1µs'],
    ["time_before('2021-01-01T00:00:00Z', '2021-01-01T00:00:01+00:00')", true],
    ["time_after('2021-01-01T01:00:00+01:00', '2021-01-01T00:00:00Z')", false],
    ["time_between('2021-01-01T12:00:00Z', '2021-01-01T00:00:00Z', '2021-01-02T00:00:00Z')", true],
    ["time_between('2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z', '2021-01-02T00:00:00Z')", false],
    ["time_truncate('2023-02-02T15:04:05+05:30', '1h')", '2023-02-02T14:30:00+05:30'], // multiples since year 1, UTC
    ["time_truncate('2023-02-02T15:04:05Z', '24h')", '2023-02-02T00:00:00Z'],
    ['time_now()', '2024-01-01T00:00:00Z'],
    ['time_now_utc()', '2024-01-01T00:00:00Z'],
    ["time_since('', '2021-01-02T1:04:05Z', '2021-01-02T01:04:06Z')", '1s'], // Go accepts a one-digit hour
  ],
  [
    ["time_add('2021-01-02', '1h')", /parsing time/],
    ["time_add('2021-02-30T00:00:00Z', '1h')", /day out of range/],
    ["time_add('2021-01-02T24:00:00Z', '1h')", /hour out of range/],
    ["time_add('2021-01-02T00:00:00Z', '1d')", /invalid duration/],
    ["time_parse('1702691171', 'abc')", /invalid syntax/],
  ],
)
