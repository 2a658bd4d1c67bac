// Structures: the pro's offerers (SIREN, validation) and their venues; create an offerer from its SIREN, a venue with
// its SIRET or — a library run by its local authority — without one, reimbursed through a pricing point.
import { api } from "../api.js";
import { chooseOfferer, loadOfferers } from "../context.js";
import { registerMessages } from "../messages.js";
import { field, formError, formatDate, h, page, submitForm } from "../ui.js";
import { membersSection } from "./members.js";

registerMessages({
  INVALID_SIREN: "Ce numéro SIREN n'est pas valide : vérifiez ses 9 chiffres sur l'avis de situation INSEE ou " +
    "l'extrait Kbis.",
  SIREN_ALREADY_REGISTERED:
    "Ce SIREN est en cours d'inscription sur le pass Culture : réessayez dans quelques instants.",
  INVALID_SIRET: "Ce numéro SIRET n'est pas valide : vérifiez ses 14 chiffres (SIREN puis numéro d'établissement).",
  SIRET_NOT_OF_OFFERER: "Ce SIRET n'appartient pas à la structure : il doit commencer par son SIREN.",
  SIRET_ALREADY_REGISTERED: "Ce SIRET est déjà celui d'un lieu inscrit sur le pass Culture.",
  INVALID_PRICING_POINT:
    "Le point de remboursement doit être un lieu de la même structure qui a un SIRET.",
  OFFERER_NOT_FOUND: "Cette structure n'existe pas.",
});

const STATUS = {
  NEW: ["En attente de validation", "badge"],
  VALIDATED: ["Validée", "badge badge-ok"],
};
let flash = null; // the message the next overview shows (after a creation)

/** The API's rule errors name their field without saying what is wrong with it: the field says the message too. */
async function precise(work) {
  try {
    return await work();
  } catch (error) {
    if (error.code && error.code !== "BAD_REQUEST") {
      for (const detail of error.fields || []) detail.message = error.message;
    }
    throw error;
  }
}

const digits = (text) => String(text || "").replace(/[\s.-]/g, "");
const spaced = (number, groups) => {
  if (!number) return "";
  const parts = [];
  let at = 0;
  for (const size of groups) { parts.push(number.slice(at, at + size)); at += size; }
  return parts.filter(Boolean).join(" ");
};
export const formatSiren = (siren) => spaced(siren, [3, 3, 3]);
export const formatSiret = (siret) => spaced(siret, [3, 3, 3, 5]);

export default async function structures(view, { params, go }) {
  const offererId = params.get("nouveau-lieu");
  if (offererId) return venuePage(view, offererId, go);
  if (params.get("nouvelle-structure")) return offererPage(view, go);
  return overview(view, go);
}

// -- the overview --------------------------------------------------------------------------------------------------
async function overview(view, go) {
  const offerers = await withLoading(() => loadOfferers());
  const shown = flash;
  flash = null;
  const message = shown ? h("div", { class: "message message-ok", role: "status", tabindex: "-1" }, shown) : null;
  if (!offerers.length) {
    page(view, "Vos structures", ...[message].filter(Boolean),
      h("p", {}, "Pour publier des offres sur le pass Culture, inscrivez d'abord votre structure (librairie, " +
        "collectivité, association, entreprise) à partir de son numéro SIREN. Vous ajouterez ensuite ses lieux."),
      h("h2", {}, "Créer votre structure"),
      offererForm(go));
    message?.focus();
    return;
  }
  page(view, "Vos structures", ...[message].filter(Boolean),
    ...offerers.map((offerer) => offererCard(offerer, async (message) => {
      await loadOfferers(true);
      backToOverview(go, message);
    })),
    h("h2", {}, "Une autre structure ?"),
    h("p", {}, "Vous gérez aussi une autre entité juridique (un autre SIREN) ? Inscrivez-la à son tour."),
    h("p", {}, h("a", { class: "button button-secondary", href: "#/structures?nouvelle-structure=1" },
      "Ajouter une structure")));
  message?.focus();
}

async function withLoading(work) {
  const bar = document.getElementById("progress");
  bar?.classList.add("busy");
  try { return await work(); } finally { bar?.classList.remove("busy"); }
}

function offererCard(offerer, onLeft) {
  const [statusText, statusClass] = STATUS[offerer.validationStatus] || [offerer.validationStatus, "badge"];
  const venues = offerer.venues || [];
  const byId = Object.fromEntries(venues.map((venue) => [venue.id, venue]));
  return h("section", { class: "card", "aria-labelledby": `structure-${offerer.id}` },
    h("h2", { id: `structure-${offerer.id}` }, offerer.name),
    h("dl", { class: "facts" },
      h("dt", {}, "SIREN"), h("dd", {}, formatSiren(offerer.siren)),
      h("dt", {}, "Statut"), h("dd", {}, h("span", { class: statusClass }, statusText)),
      h("dt", {}, "Inscrite le"), h("dd", {}, formatDate(offerer.createdAt))),
    offerer.validationStatus === "NEW"
      ? h("p", { class: "hint" }, "L'équipe pass Culture vérifie votre structure. En attendant, vous pouvez " +
        "créer ses lieux et préparer vos offres : elles seront réservables dès la validation.")
      : null,
    h("h3", {}, "Lieux"),
    venues.length
      ? h("ul", { class: "venues" }, venues.map((venue) => venueItem(venue, byId)))
      : h("p", { class: "message message-info" },
        "Cette structure n'a pas encore de lieu : ajoutez le lieu où vos offres se retirent ou ont lieu."),
    h("p", {}, h("a", { class: "button", href: `#/structures?nouveau-lieu=${encodeURIComponent(offerer.id)}` },
      "Ajouter un lieu", h("span", { class: "visually-hidden" }, ` à ${offerer.name}`))),
    membersSection(offerer, onLeft));
}

function venueItem(venue, byId) {
  const ownSiret = venue.siret || venue.pricingPointVenueId === venue.id;
  return h("li", { class: "venue" },
    h("h4", {}, venue.name),
    h("dl", { class: "facts" },
      h("dt", {}, "Identification"),
      h("dd", {}, venue.siret ? `SIRET ${formatSiret(venue.siret)}` : `Sans SIRET : ${venue.comment || ""}`),
      h("dt", {}, "Adresse"), h("dd", {}, `${venue.address}, ${venue.postalCode} ${venue.city}`),
      h("dt", {}, "Remboursement"),
      h("dd", {}, ownSiret ? "Sur son SIRET" : `Par ${byId[venue.pricingPointVenueId]?.name || "un autre lieu"}, ` +
        "son point de remboursement"),
      h("dt", {}, "E-mail de réservation"), h("dd", { class: "break" }, venue.bookingEmail)),
    h("ul", { class: "links" },
      h("li", {}, h("a", { href: `#/offres?lieu=${encodeURIComponent(venue.id)}` },
        "Offres", h("span", { class: "visually-hidden" }, ` de ${venue.name}`))),
      h("li", {}, h("a", { href: `#/offres/nouvelle?lieu=${encodeURIComponent(venue.id)}` },
        "Créer une offre", h("span", { class: "visually-hidden" }, ` à ${venue.name}`))),
      venue.siret ? h("li", {}, h("a", { href: `#/importation?lieu=${encodeURIComponent(venue.id)}` },
        "Importation des stocks", h("span", { class: "visually-hidden" }, ` de ${venue.name}`))) : null));
}

/** After a creation: the overview with its message (the hash may already be the overview's). */
function backToOverview(go, message) {
  flash = message;
  if (window.location.hash === "#/structures") window.dispatchEvent(new HashChangeEvent("hashchange"));
  else go("/structures");
}

// -- a new offerer -------------------------------------------------------------------------------------------------
function offererPage(view, go) {
  page(view, "Ajouter une structure",
    h("p", {}, "Une structure est une entité juridique, identifiée par son numéro SIREN. Si ce SIREN est déjà " +
      "inscrit, votre demande est transmise à ses membres."),
    offererForm(go),
    h("p", {}, h("a", { href: "#/structures" }, "Retour à vos structures")));
}

function offererForm(go) {
  const form = h("form", { novalidate: true, "aria-label": "Nouvelle structure" },
    field("Numéro SIREN", {
      name: "siren", required: true, inputmode: "numeric", autocomplete: "off", maxlength: 11,
      hint: "9 chiffres, sur l'avis de situation INSEE ou l'extrait Kbis de la structure.",
    }),
    field("Nom de la structure (raison sociale)", { name: "name", required: true, maxlength: 200,
      autocomplete: "organization" }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Créer la structure")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const created = await submitForm(form, ({ siren, name }) => precise(async () => {
      const problems = [];
      if (!/^\d{9}$/.test(digits(siren))) {
        problems.push({ field: "siren", message: "Le SIREN compte 9 chiffres, par exemple 412 345 670." });
      }
      if (!name.trim()) problems.push({ field: "name", message: "Indiquez le nom de la structure." });
      if (problems.length) throw formError(problems);
      const response = await api("/offerers", { method: "POST", body: { siren: digits(siren), name: name.trim() },
        raw: true }).catch((error) => {
        if (error.code === "ALREADY_MEMBER") error.message = "Vous êtes déjà membre de la structure de ce SIREN.";
        throw error;
      });
      const text = await response.text();
      return { status: response.status, offerer: text ? JSON.parse(text) : {}, name: name.trim() };
    }), "Création…");
    if (!created) return;
    await loadOfferers(true);
    if (created.status === 202) {
      backToOverview(go, `Ce SIREN est déjà inscrit sur le pass Culture : votre demande de rattachement à la ` +
        `structure est envoyée à ses membres. Vous y aurez accès dès qu'ils l'auront acceptée.`);
      return;
    }
    if (created.offerer.id) chooseOfferer(created.offerer.id);
    backToOverview(go, `La structure «\u00a0${created.name}\u00a0» est créée. Elle est en attente de ` +
      "validation par l'équipe pass Culture : ajoutez dès maintenant son premier lieu.");
  });
  return form;
}

// -- a new venue ---------------------------------------------------------------------------------------------------
function radio(name, value, label, { checked = false, disabled = false, hint } = {}) {
  const id = `${name}-${value}`;
  return h("div", { class: "choice" },
    h("input", { type: "radio", name, value, id, checked, disabled,
      "aria-describedby": hint ? `${id}-aide` : null }),
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: `${id}-aide` }, hint) : null);
}

/** "48,8590" or "48.859" → 48.859; NaN when it is not a number. */
function parseDegrees(text) {
  const normalised = String(text || "").trim().replace(",", ".");
  return /^-?\d+(\.\d+)?$/.test(normalised) ? Number(normalised) : Number.NaN;
}

async function venuePage(view, offererId, go) {
  const offerer = (await loadOfferers()).find((found) => found.id === offererId);
  if (!offerer) {
    page(view, "Ajouter un lieu",
      h("p", { class: "message message-error", role: "alert" }, "Cette structure n'est pas dans votre compte."),
      h("p", {}, h("a", { href: "#/structures" }, "Retour à vos structures")));
    return;
  }
  const pricingPoints = (offerer.venues || []).filter((venue) => venue.siret);
  const withoutSiret = radio("identite", "sans-siret",
    "Ce lieu n'a pas de SIRET : bibliothèque ou médiathèque rattachée à sa collectivité", {
      disabled: !pricingPoints.length,
      hint: pricingPoints.length
        ? "Il sera remboursé par un lieu de la structure qui a un SIRET (son point de remboursement)."
        : "Ajoutez d'abord le lieu qui porte le SIRET de la collectivité : il servira de point de remboursement.",
    });
  const siretBlock = h("div", {},
    field("Numéro SIRET", { name: "siret", inputmode: "numeric", autocomplete: "off", maxlength: 17, required: true,
      hint: `14 chiffres, commençant par le SIREN de la structure (${formatSiren(offerer.siren)}).` }));
  const commentBlock = h("div", { hidden: true },
    field("Pourquoi ce lieu n'a pas de SIRET", { as: "textarea", name: "comment", maxlength: 500, required: true,
      hint: "Par exemple : «\u00a0Médiathèque municipale rattachée à la commune, qui a le SIRET\u00a0»." }),
    field("Point de remboursement", { as: "select", name: "pricingPointVenueId", required: true,
      options: pricingPoints.map((venue) => [venue.id, `${venue.name} — SIRET ${formatSiret(venue.siret)}`]),
      hint: "Le lieu de la structure, avec un SIRET, qui reçoit les remboursements de ce lieu." }));
  const form = h("form", { novalidate: true, "aria-label": "Nouveau lieu" },
    h("fieldset", {},
      h("legend", {}, "Identification du lieu"),
      radio("identite", "siret", "Ce lieu a son propre numéro SIRET", { checked: true }),
      withoutSiret,
      siretBlock, commentBlock),
    field("Nom du lieu", { name: "name", required: true, maxlength: 200,
      hint: "Le nom que les jeunes verront, par exemple «\u00a0Librairie du Marais\u00a0»." }),
    field("Adresse", { name: "address", required: true, maxlength: 200, autocomplete: "street-address" }),
    h("div", { class: "row" },
      field("Code postal", { name: "postalCode", required: true, inputmode: "numeric", maxlength: 5,
        autocomplete: "postal-code" }),
      field("Ville", { name: "city", required: true, maxlength: 200, autocomplete: "address-level2" })),
    h("fieldset", { "aria-describedby": "position-aide" },
      h("legend", {}, "Position sur la carte"),
      h("p", { class: "hint", id: "position-aide" }, "Les jeunes trouvent les offres autour d'eux : donnez les " +
        "coordonnées GPS du lieu en degrés décimaux, par exemple 48,8590 et 2,3560. Sur une carte en ligne, un " +
        "clic droit sur le lieu les affiche."),
      h("div", { class: "row" },
        field("Latitude", { name: "latitude", required: true, inputmode: "decimal", autocomplete: "off" }),
        field("Longitude", { name: "longitude", required: true, inputmode: "decimal", autocomplete: "off" }))),
    field("E-mail de réservation", { name: "bookingEmail", type: "email", required: true, autocomplete: "email",
      hint: "Il reçoit un message à chaque réservation." }),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Créer le lieu"),
      h("a", { href: "#/structures" }, "Annuler")));
  form.addEventListener("change", (event) => {
    if (event.target.name !== "identite") return;
    const noSiret = event.target.value === "sans-siret";
    siretBlock.hidden = noSiret;
    commentBlock.hidden = !noSiret;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const created = await submitForm(form, (values) => precise(() => {
      const body = venueBody(values);
      return api(`/offerers/${encodeURIComponent(offerer.id)}/venues`, { method: "POST", body });
    }), "Création…");
    if (!created) return;
    await loadOfferers(true);
    chooseOfferer(offerer.id);
    backToOverview(go, `Le lieu «\u00a0${created.name}\u00a0» est ajouté à ${offerer.name}.`);
  });
  page(view, "Ajouter un lieu",
    h("p", {}, "Structure : ", h("strong", {}, offerer.name), ` (SIREN ${formatSiren(offerer.siren)})`),
    form);
}

/** The request's body from the form, or the form's errors. */
function venueBody(values) {
  const problems = [];
  const need = (name, message) => {
    const value = String(values[name] || "").trim();
    if (!value) problems.push({ field: name, message });
    return value;
  };
  const body = {};
  if (values.identite === "sans-siret") {
    body.comment = need("comment", "Expliquez pourquoi ce lieu n'a pas de SIRET.");
    body.pricingPointVenueId = need("pricingPointVenueId", "Choisissez le lieu qui le rembourse.");
  } else {
    body.siret = digits(values.siret);
    if (!/^\d{14}$/.test(body.siret)) {
      problems.push({ field: "siret", message: "Le SIRET compte 14 chiffres : le SIREN puis 5 chiffres." });
    }
  }
  body.name = need("name", "Indiquez le nom du lieu.");
  body.address = need("address", "Indiquez l'adresse du lieu.");
  body.postalCode = digits(values.postalCode);
  if (!/^\d{5}$/.test(body.postalCode)) {
    problems.push({ field: "postalCode", message: "Le code postal compte 5 chiffres." });
  }
  body.city = need("city", "Indiquez la ville.");
  body.latitude = parseDegrees(values.latitude);
  if (!(body.latitude >= -90 && body.latitude <= 90)) {
    problems.push({ field: "latitude", message: "Une latitude entre -90 et 90, par exemple 48,8590." });
  }
  body.longitude = parseDegrees(values.longitude);
  if (!(body.longitude >= -180 && body.longitude <= 180)) {
    problems.push({ field: "longitude", message: "Une longitude entre -180 et 180, par exemple 2,3560." });
  }
  body.bookingEmail = String(values.bookingEmail || "").trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(body.bookingEmail)) {
    problems.push({ field: "bookingEmail", message: "Une adresse e-mail, par exemple reservation@librairie.fr." });
  }
  if (problems.length) throw formError(problems);
  return body;
}
