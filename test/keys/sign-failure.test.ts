// Found by the long fuzz profile (issue 14): an RSA PKCS#8 key with one flipped byte in its CRT values imports in
// Web Crypto but fails when signing with a bare OperationError (a DOMException, not a coded error). Signing now
// reports ERR_KEY_INVALID.
import { describe, expect, it } from 'vitest'
import { CountersignError } from '../../src/errors.js'
import { parsePrivateKey, signData } from '../../src/keys/index.js'

const INCONSISTENT_RSA_PKCS8 =
  'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQClUMVr/DbTqlLFRksIwpiyHnpdhlLBDZLnJASzXjKCVQMjrs8h' +
  '3yOfbxutkesQBPfDUG+UEGdSndAhDNv24U5fTjMNIitp6vCC7ZFqUbEz86ryRmXTh6ROnPaQJk/YgthoMuzQw/e/nzm0gQs+9mej' +
  'blHLrObQmkDAra0Fe+IR5gX7F0dcLmxAaJm8y87MZCv7snBZKe/4OyqfvlpO/jdCO9VSSz07kvKuxKFm80lQ9iIhyWdLBsHLjVpV' +
  '113K5//i6MTYoSj33tvfRj8l91z2kZxwEBZTqAqOYVk1t90DAJ7O5T4lqOLwazn6o/nh/OUSvJSelMl7K1qESDFlLeqlAgMBAAEC' +
  'ggEAB0lCkkpY/kZFBKXe+8Fb6onWWdXoQtL+1Qos3Nz7e+wUSdfUEEmd79J9VU6Xniqh4u1iJZP9gdIr0LEY5s4yXpf7PwpxAGeW' +
  '9yZSYO290izcrXX12fdiAgcABQVzQnct45XPAzqH6l2xtOd1H+7LTZQ4rbHusGYEEZn2BMZbhe9b1H+QO1RZpQtIrJMc2e09+o6c' +
  'QcjHNI0xNFGxx2UHlpbtQHW8n3OEkR6zo0NKZ5DRTCoFwkYxVS62TaCRnXz+tqQw54buDjaKKgo6g7P1cfgjDojcDuf4sAdVRynF' +
  'UHRXRmluDEngc2bEBGwWDf6sV5X8ZORUS0kXNdr7fW9GtwKBgQDP6rH6lk9nEfNMh//pVAskfCk49qybgZj1kCxRzPRTw0On1G91' +
  '8aMJZ8SXRZLAKZhRGf9QxO8nIjC4SuuNc7Z9yHIvNA+hKtGyNypz6xQ2/YOyXY6sT0n+JAS2PVFhggPoktt7yFdUWsZT8OwZt50N' +
  '6AlrVEk70edCSS9xTinNMwKBgQDLi/Odbuum5DHhlLXKWL5tZKE03kEnJUhntdgg9hGZyrM9XbAT702iDZcU/Yif8ZglOl4DiACB' +
  '22NTWxiMlHgrrf3qFdlPr+3MrfesZM91vmuL+qwUd9icnLNJdQGJtWV+Sc0vn2WcHq/lRJoZUq363FMAnwDHnQBW5SfJUIL4xwKB' +
  'gCTE9rDAQE6UCBjyvDlBWa8cHhYq2Z+uraRP2OamflcJ4z8c/JE5KIITTdsKvMcrE/rTxCk+iqS7ES6mYT3kxtM7zaW3aUQxVGBW' +
  'DTXuzuZisxWqIf8rDoTZTdQEyA2cdqB8yD/90CPk4coag0aRCD9bV78ZatIfbux0EOXS0uWtAoGBAKzSGvnkn7iHr8J0XRV829JN' +
  'yoH04yS1hxBnWSZDRxZpAF5uGX4ThLq/BzQPP91tZ1zUfdZJtwSKnX68rc9Oj+mmRRxniKccHK/YVZ3NykeScgXbxBds2kG+2orY' +
  'CYI+vfnH96sjj0ZK19W1tZEing2M2/x/BE53gz5EOs+2yD0pAoGBAaPopvshrGHUHY4fEV9gwk/TT8FSUkX/PLt8QEIdxXydaxGx' +
  'm481/63zKes1pqKNjmrqv65Zb0+13GwSFs7n3/FzfYPuqve+0tXTwLyC2W/mfZkj48yzxFp//kJkNIOWHUUAY2wHcRxW8WBa21TB' +
  'u/jwBSfsI6GH+SuBuzZuxq10'

describe('a private key that imports but cannot sign', () => {
  it('gives ERR_KEY_INVALID, not a DOMException', async () => {
    const key = parsePrivateKey(Buffer.from(INCONSISTENT_RSA_PKCS8, 'base64'))
    expect(key.algorithm).toBe('rsa')
    const error = await signData(key, new Uint8Array([1, 2, 3])).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CountersignError)
    expect(error).toMatchObject({ code: 'ERR_KEY_INVALID' })
    expect((error as Error).message).toContain('cannot sign')
  })
})
