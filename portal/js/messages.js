// The API's error codes (api.md, domain.md) in the words a bookseller reads at the counter. A code missing here
// shows the API's own message: add the code beside its page's others.
const MESSAGES = {
  BAD_REQUEST: "Certains champs sont invalides : corrigez-les puis réessayez.",
  UNAUTHENTICATED: "Votre session a expiré : reconnectez-vous.",
  FORBIDDEN: "Vous n'avez pas accès à cette structure.",
  NOT_OFFERER_MEMBER: "Vous n'êtes pas rattaché·e à cette structure.",
  SERVICE_UNAVAILABLE: "Le service est momentanément indisponible. Réessayez dans quelques instants.",
  TOO_MANY_REQUESTS: "Trop de tentatives : patientez une minute avant de réessayer.",
  REQUEST_IN_PROGRESS: "Cette demande est déjà en cours : patientez quelques secondes.",
  NETWORK: "Le serveur ne répond pas. Vérifiez votre connexion internet puis réessayez.",
};

/** Messages of other modules (a page registers its own codes once, at import). */
export function registerMessages(more) { Object.assign(MESSAGES, more); }

export function frenchMessage(code, fallback) { return MESSAGES[code] || fallback; }

// pydantic's problems (English) for the few kinds a form meets
const PROBLEMS = [
  [/field required|missing/i, "Ce champ est obligatoire."],
  [/at least (\d+) character/i, (m) => `Au moins ${m[1]} caractères.`],
  [/at most (\d+) character/i, (m) => `Au plus ${m[1]} caractères.`],
  [/greater than or equal to (\S+)/i, (m) => `La valeur doit être au moins ${m[1]}.`],
  [/less than or equal to (\S+)/i, (m) => `La valeur doit être au plus ${m[1]}.`],
  [/valid integer/i, "Un nombre entier est attendu."],
  [/email/i, "Adresse e-mail invalide."],
  [/pattern|string should match/i, "Le format n'est pas valide."],
];

export function fieldProblem(problem) {
  for (const [pattern, french] of PROBLEMS) {
    const match = String(problem || "").match(pattern);
    if (match) return typeof french === "function" ? french(match) : french;
  }
  return "Valeur invalide.";
}
