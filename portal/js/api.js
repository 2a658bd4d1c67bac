// The portal's one door to the API: the pro's Cognito ID token, JSON in and out, errors as ApiError with a French
// message (messages.js) and the fields they concern.
import { fieldProblem, frenchMessage } from "./messages.js";
import { session } from "./session.js";

let apiUrl = "";
export function setApiUrl(url) { apiUrl = url.replace(/\/$/, ""); }

export class ApiError extends Error {
  constructor(status, code, message, fields = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields; // [{field, message}] for a 400 on the body
  }
}

/** Fields of a validation error: `details` is [{field, problem}], `field` as the client sent it ("siren"). */
function fieldsOf(details) {
  return (Array.isArray(details) ? details : [])
    .filter((detail) => detail && typeof detail.field === "string" && detail.field)
    .map((detail) => ({ field: detail.field.split(".").pop(), message: fieldProblem(detail.problem) }));
}

/**
 * `api("/offerers", {method: "POST", body: {...}})` → the answer's JSON (null for 204). `raw: true` answers the
 * Response (CSV). `query` is an object of search parameters (empty values left out).
 */
export async function api(path, { method = "GET", body, query, headers = {}, raw = false, idempotencyKey } = {}) {
  const url = new URL(apiUrl + path, window.location.href);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const token = await session.idToken();
  const sent = { ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (idempotencyKey) sent["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    // no-store: answers are personal and live; without it Chromium answers a GET again from its cache (e.g. a
    // countermark's 410 "already used" after the validation was undone)
    response = await fetch(url, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store" });
  } catch {
    throw new ApiError(0, "NETWORK", "Le serveur ne répond pas. Vérifiez votre connexion internet puis réessayez.");
  }
  if (response.status === 401) {
    session.clear();
    window.location.hash = "#/connexion";
    throw new ApiError(401, "UNAUTHENTICATED", "Votre session a expiré : reconnectez-vous.");
  }
  if (!response.ok) {
    let payload = {};
    try { payload = await response.json(); } catch { /* not JSON: the status says enough */ }
    const code = payload.code || `HTTP_${response.status}`;
    const fallback = response.status >= 500
      ? "Le service est momentanément indisponible. Réessayez dans quelques instants."
      : payload.message || "La demande a été refusée.";
    const error = new ApiError(response.status, code, frenchMessage(code, fallback), fieldsOf(payload.details));
    error.details = Array.isArray(payload.details) ? payload.details : []; // e.g. [{validableFrom}] of a 403
    error.retryAfter = Number(response.headers.get("Retry-After")) || null; // seconds, on a 429 (when exposed)
    error.apiMessage = typeof payload.message === "string" ? payload.message : null;
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** A fresh Idempotency-Key for one user action (a retried click sends the same one). */
export const newIdempotencyKey = () => crypto.randomUUID();
