// awskms:// references parse as sigstore/sigstore's ParseReference does (its test table, plus the ARN region).
import { describe, expect, it } from 'vitest'
import { parseAWSKMSURI } from '../../../src/kms/aws/uri.js'

const ID = '1234abcd-12ab-34cd-56ef-1234567890ab'
const KEY_ARN = `arn:aws:kms:us-east-2:111122223333:key/${ID}`
const ALIAS_ARN = 'arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias'

describe('parseAWSKMSURI', () => {
  const good: [string, string, string, string | undefined, string | undefined, string][] = [
    // uri, endpoint, keyId, alias, region, kind
    [`awskms:///${ID}`, '', ID, undefined, undefined, 'key-id'],
    [
      'awskms:///mrk-1234abcd12ab34cd56ef1234567890ab',
      '',
      'mrk-1234abcd12ab34cd56ef1234567890ab',
      undefined,
      undefined,
      'key-id',
    ],
    [`awskms:///${ID.toUpperCase()}`, '', ID.toUpperCase(), undefined, undefined, 'key-id'],
    [`awskms://localhost:4566/${ID}`, 'localhost:4566', ID, undefined, undefined, 'key-id'],
    [`awskms:///${KEY_ARN}`, '', KEY_ARN, undefined, 'us-east-2', 'key-arn'],
    [`awskms://localhost:4566/${KEY_ARN}`, 'localhost:4566', KEY_ARN, undefined, 'us-east-2', 'key-arn'],
    ['awskms:///alias/ExampleAlias', '', 'alias/ExampleAlias', 'alias/ExampleAlias', undefined, 'alias-name'],
    [
      'awskms://localhost:4566/alias/ExampleAlias',
      'localhost:4566',
      'alias/ExampleAlias',
      'alias/ExampleAlias',
      undefined,
      'alias-name',
    ],
    [`awskms:///${ALIAS_ARN}`, '', ALIAS_ARN, 'alias/ExampleAlias', 'us-east-2', 'alias-arn'],
    [
      'awskms:///arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/ExampleAlias',
      '',
      'arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/ExampleAlias',
      'alias/ExampleAlias',
      'us-gov-west-1',
      'alias-arn',
    ],
    [
      `awskms:///arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/${ID}`,
      '',
      `arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/${ID}`,
      undefined,
      'us-gov-west-1',
      'key-arn',
    ],
    [
      `awskms://localhost:4566/${ALIAS_ARN}`,
      'localhost:4566',
      ALIAS_ARN,
      'alias/ExampleAlias',
      'us-east-2',
      'alias-arn',
    ],
    [
      `awskms:///arn:aws-cn:kms:cn-north-1:111122223333:key/${ID}`,
      '',
      `arn:aws-cn:kms:cn-north-1:111122223333:key/${ID}`,
      undefined,
      'cn-north-1',
      'key-arn',
    ],
    // Alias names may hold slashes (sigstore's `alias/.*`).
    ['awskms:///alias/team/release', '', 'alias/team/release', 'alias/team/release', undefined, 'alias-name'],
  ]
  it.each(good)('%s', (uri, endpoint, keyId, alias, region, kind) => {
    const ref = parseAWSKMSURI(uri)
    expect(ref).toEqual({
      uri,
      endpoint,
      keyId,
      kind,
      ...(alias !== undefined ? { alias } : {}),
      ...(region !== undefined ? { region } : {}),
    })
  })

  const bad = [
    'awskms:///missingalias', // no alias/ prefix
    'awskms:///1234abcd-12ab-YYYY-56ef-1234567890ab', // not hex
    `awskms://${ID}`, // two slashes: the id would be the endpoint
    `awskms:///${ID}x`,
    `awskms:///arn:aws:kms:us-east-2:1111:key/${ID}`, // short account
    `awskms:///arn:aws:s3:us-east-2:111122223333:key/${ID}`, // not kms
    `awskms:///arn:aws-foo:kms:us-east-2:111122223333:key/${ID}`, // unknown partition
    `gcpkms:///${ID}`,
    '',
    'awskms://',
  ]
  it.each(bad)('rejects %j with ERR_INVALID_INPUT', (uri) => {
    expect(() => parseAWSKMSURI(uri)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })

  it('rejects non-strings with a TypeError', () => {
    expect(() => parseAWSKMSURI(42 as unknown as string)).toThrow(TypeError)
  })
})
