// SRP-6a as Amazon Cognito runs it (the USER_SRP_AUTH flow of amazon-cognito-identity-js's AuthenticationHelper):
// the password never leaves the browser, only a proof that we know it. BigInt for the arithmetic, WebCrypto for
// SHA-256, HMAC and HKDF, crypto.getRandomValues for the secret. No dependencies.

// N: the 3072-bit MODP group of RFC 3526 (RFC 5054's); g = 2.
const N = BigInt("0x" +
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
  "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
  "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
  "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
  "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
  "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF");
const g = 2n;
const subtle = globalThis.crypto.subtle;
const utf8 = (text) => new TextEncoder().encode(text);

// Before hashing, a number is written as an even number of hex digits, with "00" in front when the first digit is
// 8-f (a positive two's-complement byte string): Cognito hashes those bytes.
export function padHex(n) {
  const hex = n.toString(16);
  if (hex.length % 2) return "0" + hex;
  return "89abcdef".includes(hex[0]) ? "00" + hex : hex;
}

function hexToBytes(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
}

const bytesToHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
};
const sha256 = async (bytes) => new Uint8Array(await subtle.digest("SHA-256", bytes));
const hashHex = async (hex) => BigInt("0x" + bytesToHex(await sha256(hexToBytes(hex)))); // H(bytes) as a number
const mod = (x) => ((x % N) + N) % N;

function modPow(base, exponent, modulus) { // square-and-multiply
  let result = 1n;
  base %= modulus;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    exponent >>= 1n;
  }
  return result;
}

/** The client's secret a (1024 random bits) and public A = g^a mod N, sent as SRP_A (hex). */
export function startSrp() {
  for (;;) {
    const a = BigInt("0x" + bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(128)))) % N;
    const A = modPow(g, a, N);
    if (a !== 0n && A !== 0n) return { a, A };
  }
}

/** Cognito's TIMESTAMP: "Tue Nov 24 08:24:38 UTC 2026" (English names, UTC, the day of month not zero-padded). */
export function cognitoTimestamp(date = new Date()) {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n) => String(n).padStart(2, "0");
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${date.getUTCDate()} ${time} UTC ${date.getUTCFullYear()}`;
}

/** PASSWORD_CLAIM_SIGNATURE (base64) for the server's challenge {SALT, SRP_B, SECRET_BLOCK, USER_ID_FOR_SRP}. */
export async function passwordClaim({ poolName, userId, password, a, A, salt, srpB, secretBlock, timestamp }) {
  const B = BigInt("0x" + srpB);
  if (mod(B) === 0n) throw new Error("SRP: the server's B is 0 mod N.");
  const u = await hashHex(padHex(A) + padHex(B)); // u = H(A | B)
  if (u === 0n) throw new Error("SRP: u is 0.");
  const k = await hashHex(padHex(N) + padHex(g)); // k = H(N | g)
  // x = H(salt | H(poolName | userId | ":" | password)), the inner hash as its 64 hex digits
  const inner = bytesToHex(await sha256(utf8(`${poolName}${userId}:${password}`)));
  const x = await hashHex(padHex(BigInt("0x" + salt)) + inner);
  // S = (B - k·g^x)^(a + u·x) mod N: the server computes the same S as (A·v^u)^b, with v = g^x
  const S = modPow(mod(B - k * modPow(g, x, N)), a + u * x, N);
  // the signing key: HKDF-SHA256 (salt u, input S, info "Caldera Derived Key"), 16 bytes
  const ikm = await subtle.importKey("raw", hexToBytes(padHex(S)), "HKDF", false, ["deriveBits"]);
  const hkdf = { name: "HKDF", hash: "SHA-256", salt: hexToBytes(padHex(u)), info: utf8("Caldera Derived Key") };
  const key = new Uint8Array(await subtle.deriveBits(hkdf, ikm, 128));
  // the proof: HMAC-SHA256(key, poolName | userId | secret block bytes | timestamp)
  const hmacKey = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const block = Uint8Array.from(atob(secretBlock), (c) => c.charCodeAt(0));
  const message = concat(utf8(poolName), utf8(userId), block, utf8(timestamp));
  const signature = new Uint8Array(await subtle.sign("HMAC", hmacKey, message));
  return btoa(String.fromCharCode(...signature));
}
