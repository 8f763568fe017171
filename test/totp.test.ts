// The TOTP module against RFC 6238 Appendix B, RFC 4226 Appendix D and the
// ways people type secrets and codes. Time is always passed in.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../src/core/errors.js';
import { buildOtpauthUri, checkTotpCode, computeTotpCode, normalizeTotpCode, normalizeTotpSecret, resolveIssuer } from '../src/core/totp.js';

/** K: the ASCII secret 12345678901234567890 of both RFCs, in base32. */
const K = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const KEY_SHA1 = Buffer.from('12345678901234567890');
const KEY_SHA256 = Buffer.from('12345678901234567890123456789012');
const KEY_SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');

// RFC 6238 Appendix B: time, then the 8-digit codes for SHA-1, SHA-256, SHA-512.
const RFC6238_VECTORS: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

// RFC 4226 Appendix D: HOTP values for counters 0 to 9, which are TOTP steps.
const RFC4226_VALUES = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

describe('RFC 6238 vectors', () => {
  for (const [time, sha1, sha256, sha512] of RFC6238_VECTORS) {
    test(`computes codes at T=${time}`, () => {
      assert.equal(computeTotpCode({ secret: KEY_SHA1, nowSeconds: time, digits: 8 }), sha1);
      assert.equal(computeTotpCode({ secret: KEY_SHA256, nowSeconds: time, digits: 8, algorithm: 'sha256' }), sha256);
      assert.equal(computeTotpCode({ secret: KEY_SHA512, nowSeconds: time, digits: 8, algorithm: 'sha512' }), sha512);
    });

    test(`accepts six-digit SHA-1 code at T=${time}`, () => {
      assert.deepEqual(checkTotpCode({ secret: K, code: sha1.slice(2), nowSeconds: time }), {
        valid: true,
        step: Math.floor(time / 30),
      });
    });
  }

  test('rejects wrong-offset truncation values', () => {
    // Values of a known bug that read the truncation offset from the wrong byte.
    assert.notEqual(computeTotpCode({ secret: KEY_SHA256, nowSeconds: 59, digits: 8, algorithm: 'sha256' }), '88769542');
    assert.notEqual(computeTotpCode({ secret: KEY_SHA512, nowSeconds: 59, digits: 8, algorithm: 'sha512' }), '31748108');
  });
});

describe('RFC 4226 vectors', () => {
  RFC4226_VALUES.forEach((value, counter) => {
    test(`computes HOTP value for counter ${counter}`, () => {
      assert.equal(computeTotpCode({ secret: K, nowSeconds: counter * 30 }), value);
    });
  });
});

describe('window and single use', () => {
  test('accepts step 1 at T=0 and T=89', () => {
    assert.equal(checkTotpCode({ secret: K, code: '287082', nowSeconds: 0 }).valid, true);
    assert.equal(checkTotpCode({ secret: K, code: '287082', nowSeconds: 89 }).valid, true);
  });

  test('rejects step 1 at T=90', () => {
    assert.equal(checkTotpCode({ secret: K, code: '287082', nowSeconds: 90 }).valid, false);
  });

  test('accepts neighbours of T=59, not step 3', () => {
    assert.deepEqual(checkTotpCode({ secret: K, code: '755224', nowSeconds: 59 }), { valid: true, step: 0 });
    assert.deepEqual(checkTotpCode({ secret: K, code: '359152', nowSeconds: 59 }), { valid: true, step: 2 });
    assert.equal(checkTotpCode({ secret: K, code: '969429', nowSeconds: 59 }).valid, false);
  });

  test('rejects steps at or before the last', () => {
    assert.equal(checkTotpCode({ secret: K, code: '287082', nowSeconds: 65, lastStep: 1 }).valid, false);
    assert.equal(checkTotpCode({ secret: K, code: '287082', nowSeconds: 62, lastStep: 2 }).valid, false);
    assert.deepEqual(checkTotpCode({ secret: K, code: '359152', nowSeconds: 62, lastStep: 1 }), { valid: true, step: 2 });
  });
});

describe('codes as people type them', () => {
  test('keeps leading zeros', () => {
    assert.equal(checkTotpCode({ secret: K, code: '005924', nowSeconds: 1234567890 }).valid, true);
    assert.equal(checkTotpCode({ secret: K, code: '5924', nowSeconds: 1234567890 }).valid, false);
    assert.equal(checkTotpCode({ secret: 'R5MB5FAQNX5UIPWL', code: '002941', nowSeconds: 1355613270 }).valid, true);
  });

  test('accepts spaces and a trailing newline', () => {
    for (const code of ['287 082', '287082\n', ' 287082 ', '287\t082']) {
      assert.equal(checkTotpCode({ secret: K, code, nowSeconds: 59 }).valid, true, JSON.stringify(code));
    }
  });

  test('rejects malformed codes without throwing', () => {
    for (const code of ['28a082', '2870820', '', '   ', 'abcdef', '000000', '123456', '969429', '２８７０８２']) {
      assert.equal(checkTotpCode({ secret: K, code, nowSeconds: 59 }).valid, false, JSON.stringify(code));
    }
    assert.equal(normalizeTotpCode('28a082'), null);
  });

  test('does not use base32 text as key', () => {
    // 372946 is the code the ASCII bytes of the base32 text would give.
    assert.equal(checkTotpCode({ secret: K, code: '287082', nowSeconds: 59 }).valid, true);
    assert.equal(checkTotpCode({ secret: K, code: '372946', nowSeconds: 59 }).valid, false);
    assert.equal(computeTotpCode({ secret: Buffer.from(K), nowSeconds: 59 }), '372946');
  });
});

describe('secrets as people type them', () => {
  test('normalizes case, spaces and padding', () => {
    assert.equal(normalizeTotpSecret('gezd gnbv gy3t qojq gezd gnbv gy3t qojq'), K);
    assert.equal(normalizeTotpSecret(`${K}====`), K);
    assert.equal(normalizeTotpSecret('lgle-reye-pvvw-tlyo'), 'LGLEREYEPVVWTLYO');
  });

  test('normalized secret verifies codes', () => {
    const secret = normalizeTotpSecret('gezd gnbv gy3t qojq gezd gnbv gy3t qojq====');
    assert.equal(checkTotpCode({ secret, code: '287082', nowSeconds: 59 }).valid, true);
  });

  test('rejects characters outside base32', () => {
    assert.throws(() => normalizeTotpSecret('GEZDGNBVGY3TQOJ1'), InputError);
    assert.throws(() => normalizeTotpSecret('GEZDGNBVGY3TQOJ!'), /base32/);
  });

  test('rejects secrets under 80 bits', () => {
    assert.throws(() => normalizeTotpSecret('GEZDGNBV'), /at least 10/);
  });

  test('accepts 16-character app secret', () => {
    const code = computeTotpCode({ secret: 'LGLEREYEPVVWTLYO', nowSeconds: 1700000000 });
    assert.equal(checkTotpCode({ secret: 'LGLEREYEPVVWTLYO', code, nowSeconds: 1700000000 }).valid, true);
  });
});

describe('otpauth URI', () => {
  test('encodes space in issuer as %20', () => {
    const uri = buildOtpauthUri({ issuer: 'Acme Co', username: 'ana.maria', secret: K });
    assert.equal(uri, `otpauth://totp/Acme%20Co:ana.maria?secret=${K}&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30`);
    assert.ok(!uri.includes('+'));
  });

  test('encodes non-ASCII issuer as UTF-8', () => {
    const uri = buildOtpauthUri({ issuer: 'Zürich Ltd', username: 'ana', secret: K });
    assert.ok(uri.startsWith('otpauth://totp/Z%C3%BCrich%20Ltd:ana?'), uri);
    assert.ok(uri.includes('&issuer=Z%C3%BCrich%20Ltd&'), uri);
  });

  test('rejects issuer with a colon', () => {
    assert.throws(() => resolveIssuer('Acme: Ops'), (error: unknown) => error instanceof InputError && /colon/.test(error.message));
  });

  test('defaults issuer to twofa', () => {
    assert.equal(resolveIssuer(undefined), 'twofa');
    assert.equal(resolveIssuer('  '), 'twofa');
  });
});
