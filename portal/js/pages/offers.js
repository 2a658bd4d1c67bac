// Offers: a venue's offers with their status and what is left; create a book (from its EAN: the catalogue gives its
// title and author), a dated event or a free subscription card; one offer's page: its image (uploaded straight to
// the storage with the presigned POST the API answers), its accroche, its stocks, its deactivation.
import { api, newIdempotencyKey } from "../api.js";
import { allVenues, loadOfferers, noOffererYet } from "../context.js";
import { registerMessages } from "../messages.js";
import {
  field, formError, formatCents, formatDateTime, h, localInputToIso, page, parseEuros, showMessage, submitForm, table,
  withProgress,
} from "../ui.js";

registerMessages({
  UNKNOWN_EAN: "Ce livre n'est pas dans le catalogue du pass Culture : indiquez son titre.",
  INVALID_EAN: "Cet EAN n'est pas valide : 13 chiffres, ceux du code-barres au dos du livre.",
  EAN_NOT_ALLOWED: "Seuls les livres ont un EAN.",
  UNKNOWN_SUBCATEGORY: "Choisissez une catégorie de la liste.",
  URL_REQUIRED: "Cette offre est numérique : indiquez son adresse (URL).",
  URL_NOT_ALLOWED: "Cette offre a lieu sur place : elle n'a pas d'adresse web.",
  DUO_NOT_ALLOWED: "Cette catégorie d'offre ne se réserve pas à deux.",
  BEGINNING_REQUIRED: "Un événement a une date de début.",
  BEGINNING_IN_PAST: "La date de l'événement doit être à venir.",
  BOOKING_LIMIT_AFTER_BEGINNING: "La date limite de réservation doit précéder le début de l'événement.",
  BEGINNING_NOT_ALLOWED: "Cette offre n'est pas datée : pas de date de début.",
  QUANTITY_BELOW_BOOKED:
    "La quantité ne peut pas descendre sous le nombre de places déjà réservées : les réservations faites " +
    "restent dues.",
  STOCK_NOT_FOUND: "Ce stock n'existe plus : rechargez la page.",
  OFFER_NOT_FOUND: "Cette offre n'existe pas ou n'est plus visible.",
  IDEMPOTENCY_KEY_REUSED: "Cette offre a déjà été créée : rechargez la page pour en créer une autre.",
  INVALID_IDEMPOTENCY_KEY: "La demande n'a pas pu être envoyée : rechargez la page puis réessayez.",
  VENUE_NOT_FOUND: "Ce lieu n'existe pas.",
});

const STATUS = {
  ACTIVE: ["Active", "badge badge-ok"],
  INACTIVE: ["Désactivée", "badge badge-error"],
  SOLD_OUT: ["Épuisée", "badge"],
  EXPIRED: ["Expirée", "badge"],
};
const CARD_SUBCATEGORIES = ["ABO_BIBLIOTHEQUE", "ABO_MEDIATHEQUE"];
const IMAGE_TYPES = { "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP" };
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const MAX_PRICE_CENTS = 300_00;
const MAX_QUANTITY = 1_000_000;
const LAST_VENUE = "passculture-pro-venue";
const PAGE_SIZE = 50;

let subcategories = null;
let flash = null; // the message the next offer page shows (after its creation)

async function loadSubcategories() {
  if (!subcategories) subcategories = (await api("/subcategories")).items;
  return subcategories;
}

function labelOf(subcategoryId) {
  return (subcategories || []).find((found) => found.id === subcategoryId)?.label || subcategoryId;
}

function statusBadge(status) {
  const [text, className] = STATUS[status] || [status, "badge"];
  return h("span", { class: className }, text);
}

/** The API's rule errors name their field without saying what is wrong with it: the field says the message too.
 * `fieldOf` places an error the API gives without a field ({CODE: "field"}). */
async function precise(work, fieldOf = {}) {
  try {
    return await work();
  } catch (error) {
    if (error.code && error.code !== "BAD_REQUEST") {
      if (!error.fields?.length && fieldOf[error.code]) error.fields = [{ field: fieldOf[error.code] }];
      for (const detail of error.fields || []) detail.message = error.message;
    }
    throw error;
  }
}

/** An ISO instant → the value of a `datetime-local` input (the browser's wall time). */
function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:` +
    `${pad(date.getMinutes())}`;
}

/** A quantity field: "" → null (unlimited), a whole number → it, else NaN. */
function parseQuantity(text) {
  const value = String(text ?? "").trim().replace(/\s/g, "");
  if (!value) return null;
  return /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

function priceProblem(cents) {
  if (Number.isNaN(cents)) return "Un prix en euros, par exemple 12,50 (0 pour une offre gratuite).";
  if (cents > MAX_PRICE_CENTS) return "Le prix d'une offre pass Culture est de 300 € au plus.";
  return null;
}

function quantityProblem(quantity, booked = 0) {
  if (Number.isNaN(quantity)) return "Un nombre entier, ou vide pour un stock illimité.";
  if (quantity !== null && quantity > MAX_QUANTITY) return "1 000 000 au plus.";
  if (quantity !== null && quantity < booked) {
    const already = booked > 1 ? `${booked} places sont déjà réservées` : "une place est déjà réservée";
    return `Au moins ${booked} : ${already}` +
      " (les réservations faites restent dues).";
  }
  return null;
}

function withLoading(work) {
  const bar = document.getElementById("progress");
  bar?.classList.add("busy");
  return work().finally(() => bar?.classList.remove("busy"));
}

/** The venue the page is about: the one in the address, else the last one chosen, else the first. */
function pickVenue(venues, asked) {
  const wanted = asked || sessionStorage.getItem(LAST_VENUE);
  const venue = venues.find((found) => found.id === wanted) || venues[0];
  sessionStorage.setItem(LAST_VENUE, venue.id);
  return venue;
}

function venueLabel(venue, venues) {
  const offerers = new Set(venues.map((found) => found.offererId));
  return offerers.size > 1 ? `${venue.name} (${venue.offererName})` : venue.name;
}

async function noVenue(view, title) {
  const offerers = await loadOfferers();
  page(view, title, offerers.length
    ? h("div", { class: "message message-info" }, "Votre structure n'a pas encore de lieu. ",
      h("a", { href: `#/structures?nouveau-lieu=${encodeURIComponent(offerers[0].id)}` }, "Ajoutez un lieu"),
      " pour y publier des offres.")
    : noOffererYet());
}

// -- the list ------------------------------------------------------------------------------------------------------
export async function list(view, { params }) {
  const venues = await withLoading(() => allVenues());
  if (!venues.length) return noVenue(view, "Offres");
  await withLoading(() => loadSubcategories());
  let venue = pickVenue(venues, params.get("lieu"));
  const picker = field("Lieu", { as: "select", name: "lieu", value: venue.id,
    options: venues.map((found) => [found.id, venueLabel(found, venues)]) });
  const createLink = h("a", { class: "button", href: "" }, "Créer une offre");
  const heading = h("h2", {});
  const results = h("div", {});
  const announce = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const show = async () => {
    createLink.setAttribute("href", `#/offres/nouvelle?lieu=${encodeURIComponent(venue.id)}`);
    heading.textContent = `Offres de ${venue.name}`;
    return showOffers(venue, results);
  };
  picker.querySelector("select").addEventListener("change", async (event) => {
    venue = venues.find((found) => found.id === event.target.value);
    sessionStorage.setItem(LAST_VENUE, venue.id);
    window.history.replaceState(null, "", `#/offres?lieu=${encodeURIComponent(venue.id)}`);
    const count = await show();
    const s = count > 1 ? "s" : "";
    if (count !== null) announce.textContent = `${count} offre${s} affichée${s} pour ${venue.name}.`;
  });
  page(view, "Offres", h("div", { class: "venue-picker" }, picker), announce,
    h("div", { class: "actions" }, createLink), heading, results);
  await show();
}

async function showOffers(venue, results) {
  const offers = [];
  let cursor = null;
  const more = h("button", { type: "button", class: "button-secondary" }, "Afficher plus d'offres");
  const render = () => {
    results.replaceChildren(
      quietCaption(table(`Offres de ${venue.name}`, [
        ["Offre", (offer) => h("span", {},
          h("a", { href: `#/offre?id=${encodeURIComponent(offer.id)}` }, offer.name),
          offer.book?.author ? h("span", { class: "muted" }, h("br"), offer.book.author) : null)],
        ["Catégorie", (offer) => labelOf(offer.subcategoryId)],
        ["Statut", (offer) => statusBadge(offer.status)],
        ["Prix", (offer) => h("span", { class: "nowrap" }, priceRange(offer.stocks))],
        ["Restant", (offer) => remaining(offer.stocks)],
        ["Réservé", (offer) => String(offer.stocks.reduce((sum, stock) => sum + (stock.bookedQuantity || 0), 0))],
        ["Prochaine date", (offer) => nextDate(offer.stocks)],
      ], offers, "Ce lieu n'a pas encore d'offre : créez la première.")),
      cursor ? h("div", { class: "pager" }, more) : "");
  };
  const load = async (button) => {
    try {
      const answer = await withProgress(() => api(`/venues/${encodeURIComponent(venue.id)}/offers`,
        { query: { limit: PAGE_SIZE, cursor } }), button, "Chargement…");
      offers.push(...answer.items);
      cursor = answer.nextCursor;
      render();
      return offers.length;
    } catch (error) {
      results.replaceChildren(h("p", { class: "message message-error", role: "alert" }, error.message));
      return null;
    }
  };
  more.addEventListener("click", async () => {
    const before = offers.length;
    if (await load(more) !== null) {
      results.querySelectorAll("tbody tr")[before]?.querySelector("a")?.focus(); // the first offer just shown
    }
  });
  results.replaceChildren(h("p", { class: "muted" }, "Chargement des offres…"));
  return load(null);
}

/** A table whose caption repeats the heading just above it: the caption stays for screen readers only. */
function quietCaption(element) {
  element.querySelector("caption")?.classList.add("visually-hidden");
  return element;
}

function priceRange(stocks) {
  if (!stocks.length) return "—";
  const prices = stocks.map((stock) => stock.priceCents);
  const low = Math.min(...prices);
  const high = Math.max(...prices);
  const shown = (cents) => (cents === 0 ? "Gratuit" : formatCents(cents));
  return low === high ? shown(low) : `${shown(low)} à ${shown(high)}`;
}

function remaining(stocks) {
  if (!stocks.length) return "Aucun stock";
  if (stocks.some((stock) => stock.remainingQuantity === null)) return "Illimité";
  return String(stocks.reduce((sum, stock) => sum + stock.remainingQuantity, 0));
}

function nextDate(stocks) {
  const now = Date.now();
  const dates = stocks.map((stock) => stock.beginningDatetime).filter(Boolean)
    .filter((iso) => new Date(iso).getTime() > now).sort();
  if (!dates.length) return stocks.some((stock) => stock.beginningDatetime) ? "Passée" : "—";
  return formatDateTime(dates[0]);
}

// -- a new offer ---------------------------------------------------------------------------------------------------
function radio(name, value, label, { checked = false, hint } = {}) {
  const id = `${name}-${value}`;
  return h("div", { class: "choice" },
    h("input", { type: "radio", name, value, id, checked, "aria-describedby": hint ? `${id}-aide` : null }),
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: `${id}-aide` }, hint) : null);
}

let dateCount = 0;

/** One dated stock of an event: its start, its booking limit, its price and places. */
function dateRow(onRemove) {
  const n = ++dateCount;
  const row = h("fieldset", { class: "date-row" },
    h("legend", {}, "Date"),
    h("div", { class: "row" },
      field("Début", { type: "datetime-local", name: `beginning-${n}`, required: true }),
      field("Fin des réservations", { type: "datetime-local", name: `limit-${n}`,
        hint: "Facultatif : par défaut, jusqu'au début." })),
    h("div", { class: "row" },
      field("Prix (€)", { name: `price-${n}`, inputmode: "decimal", required: true, value: "0",
        hint: "0 pour un événement gratuit." }),
      field("Places", { name: `quantity-${n}`, inputmode: "numeric", hint: "Vide : sans limite." })));
  row.dataset.n = String(n);
  const remove = h("button", { type: "button", class: "button-secondary remove-date" }, "Retirer cette date");
  remove.addEventListener("click", () => onRemove(row));
  row.append(h("div", { class: "actions" }, remove));
  return row;
}

export async function create(view, { params, go }) {
  const venues = await withLoading(() => allVenues());
  if (!venues.length) return noVenue(view, "Créer une offre");
  const all = await withLoading(() => loadSubcategories());
  const venue = pickVenue(venues, params.get("lieu"));
  const idempotencyKey = newIdempotencyKey(); // one per display of the form: a second click creates nothing more
  const kinds = {
    livre: [{ id: "LIVRE_PAPIER", label: "Livre papier" }],
    evenement: all.filter((subcategory) => subcategory.isEvent),
    abonnement: all.filter((subcategory) => CARD_SUBCATEGORIES.includes(subcategory.id)),
  };
  const subcategory = field("Catégorie", { as: "select", name: "subcategoryId", required: true });
  const nameField = field("Titre de l'offre", { name: "name", maxlength: 140, required: true });
  const bookBlock = h("div", {},
    field("EAN (ISBN) du livre", { name: "ean", inputmode: "numeric", autocomplete: "off", maxlength: 17,
      required: true, hint: "Les 13 chiffres du code-barres, au dos du livre : le titre et l'auteur viennent du " +
        "catalogue. Les manuels scolaires et parascolaires ne sont pas éligibles." }));
  const stockBlock = h("fieldset", {},
    h("legend", {}, "Stock"),
    h("div", { class: "row" },
      field("Prix (€)", { name: "price", inputmode: "decimal", required: true, hint: "Par exemple 12,50." }),
      field("Quantité", { name: "quantity", inputmode: "numeric",
        hint: "Les exemplaires proposés. Vide : illimité." })));
  const freeNote = h("p", { class: "message message-info" },
    "Carte gratuite : les jeunes la réservent sans dépenser leur crédit, et la réservation est validée toute " +
    "seule 30 jours plus tard.");
  const dates = h("div", {});
  const addDate = h("button", { type: "button", class: "button-secondary" }, "Ajouter une date");
  const renumber = () => {
    [...dates.children].forEach((row, index) => {
      row.querySelector("legend").textContent = `Date ${index + 1}`;
      row.querySelector(".remove-date").hidden = dates.children.length < 2;
    });
  };
  const removeDate = (row) => {
    row.remove();
    renumber();
    dates.querySelector("input")?.focus();
  };
  addDate.addEventListener("click", () => {
    const row = dateRow(removeDate);
    dates.append(row);
    renumber();
    row.querySelector("input").focus();
  });
  dates.append(dateRow(removeDate));
  renumber();
  const eventBlock = h("div", {},
    h("div", { class: "choice" },
      h("input", { type: "checkbox", name: "isDuo", id: "offre-duo", value: "oui" }),
      h("label", { for: "offre-duo" }, "Réservation «\u00a0duo\u00a0» : un jeune peut réserver deux places")),
    h("h2", {}, "Dates"),
    dates,
    h("div", { class: "actions" }, addDate));
  const form = h("form", { novalidate: true, "aria-label": "Nouvelle offre" },
    field("Lieu", { as: "select", name: "venueId", value: venue.id, required: true,
      options: venues.map((found) => [found.id, venueLabel(found, venues)]) }),
    h("fieldset", {},
      h("legend", {}, "Type d'offre"),
      radio("kind", "livre", "Un livre, à partir de son EAN", { checked: true }),
      radio("kind", "evenement", "Un événement daté : rencontre, atelier, lecture, spectacle…"),
      radio("kind", "abonnement", "Une carte d'abonnement gratuite à la bibliothèque ou à la médiathèque")),
    subcategory, bookBlock, nameField,
    field("Accroche", { as: "textarea", name: "description", maxlength: 10000,
      hint: "Quelques lignes qui donnent envie : le coup de cœur du libraire, le thème de la rencontre…" }),
    stockBlock, freeNote, eventBlock,
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Créer l'offre"),
      h("a", { href: `#/offres?lieu=${encodeURIComponent(venue.id)}` }, "Annuler")));
  const select = subcategory.querySelector("select");
  const priceField = form.elements.namedItem("price").closest(".field");
  let unknownEan = false;
  const applyKind = (kind) => {
    select.replaceChildren(...kinds[kind].map((found) => h("option", { value: found.id }, found.label)));
    subcategory.hidden = kind === "livre";
    bookBlock.hidden = kind !== "livre";
    nameField.hidden = kind === "livre" && !unknownEan;
    nameField.querySelector("label").firstChild.textContent = kind === "livre" ? "Titre du livre" : "Titre de l'offre";
    stockBlock.hidden = kind === "evenement";
    priceField.hidden = kind === "abonnement";
    freeNote.hidden = kind !== "abonnement";
    eventBlock.hidden = kind !== "evenement";
    if (kind === "abonnement" && !form.elements.namedItem("name").value) {
      form.elements.namedItem("name").value = `Carte d'abonnement — ${form.elements.namedItem("venueId")
        .selectedOptions[0]?.textContent || ""}`.slice(0, 140);
    }
  };
  form.addEventListener("change", (event) => {
    if (event.target.name === "kind") applyKind(event.target.value);
  });
  applyKind("livre");

  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    let refusal = null;
    try {
      const done = await submitForm(form, (values) => precise(async () => {
        const { body, stocks } = offerRequest(form, values, unknownEan);
        let offer;
        try {
          offer = await api("/offers", { method: "POST", body, idempotencyKey });
        } catch (error) {
          refusal = error.code;
          throw error;
        }
        const failed = [];
        for (const stock of stocks) {
          try {
            await api(`/offers/${encodeURIComponent(offer.id)}/stocks`, { method: "POST", body: stock });
          } catch (error) {
            failed.push(error.message);
          }
        }
        return { offer, failed };
      }), "Création…");
      if (!done) {
        if (!unknownEan && refusal === "UNKNOWN_EAN") {
          unknownEan = true; // the catalogue does not know this EAN: the title is asked
          nameField.hidden = false;
          form.elements.namedItem("name").focus();
        }
        return;
      }
      flash = done.failed.length
        ? { kind: "error", text: `L'offre «\u00a0${done.offer.name}\u00a0» est créée, mais son stock n'a pas pu ` +
          `être ajouté : ${done.failed.join(" ")} Ajoutez-le ci-dessous.` }
        : { kind: "ok", text: `L'offre «\u00a0${done.offer.name}\u00a0» est créée.` };
      go(`/offre?id=${encodeURIComponent(done.offer.id)}`);
    } finally {
      busy = false;
    }
  });
  page(view, "Créer une offre", form);
}

/** POST /offers' body and the stocks to add, from the form; or the form's errors. */
function offerRequest(form, values, unknownEan) {
  const kind = values.kind;
  const problems = [];
  const body = { venueId: values.venueId, subcategoryId: kind === "livre" ? "LIVRE_PAPIER" : values.subcategoryId };
  const description = String(values.description || "").trim();
  if (description) body.description = description;
  const name = String(values.name || "").trim();
  if (kind === "livre") {
    body.ean = String(values.ean || "").replace(/[\s-]/g, "");
    if (!/^\d{13}$/.test(body.ean)) {
      problems.push({ field: "ean", message: "L'EAN compte 13 chiffres, par exemple 9782070360024." });
    }
    if (unknownEan) {
      if (name) body.name = name;
      else problems.push({ field: "name", message: "Indiquez le titre du livre." });
    }
  } else if (name) {
    body.name = name;
  } else {
    problems.push({ field: "name", message: "Indiquez le titre de l'offre." });
  }
  const stocks = [];
  if (kind === "evenement") {
    if (values.isDuo) body.isDuo = true;
    for (const row of form.querySelectorAll(".date-row")) {
      const n = row.dataset.n;
      const beginning = localInputToIso(values[`beginning-${n}`]);
      const limit = localInputToIso(values[`limit-${n}`]);
      const priceCents = parseEuros(values[`price-${n}`]);
      const quantity = parseQuantity(values[`quantity-${n}`]);
      if (!beginning) problems.push({ field: `beginning-${n}`, message: "Indiquez le jour et l'heure du début." });
      else if (new Date(beginning).getTime() <= Date.now()) {
        problems.push({ field: `beginning-${n}`, message: "La date de l'événement doit être à venir." });
      }
      if (values[`limit-${n}`] && !limit) problems.push({ field: `limit-${n}`, message: "Une date et une heure." });
      else if (limit && beginning && limit > beginning) {
        problems.push({ field: `limit-${n}`, message: "La fin des réservations doit précéder le début." });
      }
      const priceError = priceProblem(priceCents);
      if (priceError) problems.push({ field: `price-${n}`, message: priceError });
      const quantityError = quantityProblem(quantity);
      if (quantityError) problems.push({ field: `quantity-${n}`, message: quantityError });
      const stock = { priceCents, beginningDatetime: beginning };
      if (limit) stock.bookingLimitDatetime = limit;
      if (quantity !== null) stock.quantity = quantity;
      stocks.push(stock);
    }
  } else {
    const priceCents = kind === "abonnement" ? 0 : parseEuros(values.price);
    const quantity = parseQuantity(values.quantity);
    const priceError = priceProblem(priceCents);
    if (priceError) problems.push({ field: "price", message: priceError });
    const quantityError = quantityProblem(quantity);
    if (quantityError) problems.push({ field: "quantity", message: quantityError });
    stocks.push(quantity === null ? { priceCents } : { priceCents, quantity });
  }
  if (problems.length) throw formError(problems);
  return { body, stocks };
}

// -- one offer -----------------------------------------------------------------------------------------------------
export async function detail(view, { params }) {
  const offerId = params.get("id");
  if (!offerId) {
    page(view, "Offre", h("p", { class: "message message-error", role: "alert" }, "Aucune offre n'est indiquée."),
      h("p", {}, h("a", { href: "#/offres" }, "Voir vos offres")));
    return;
  }
  const shown = flash;
  flash = null;
  await renderOffer(view, offerId, shown);
}

async function renderOffer(view, offerId, message) {
  let offer;
  try {
    [offer] = await withLoading(() => Promise.all([
      api(`/pro/offers/${encodeURIComponent(offerId)}`), loadSubcategories()]));
  } catch (error) {
    page(view, "Offre", h("p", { class: "message message-error", role: "alert" },
      error.code === "NOT_OFFERER_MEMBER" ? "Cette offre n'existe pas, ou n'est pas celle d'une de vos structures."
        : error.message),
    h("p", {}, h("a", { href: "#/offres" }, "Voir vos offres")));
    return;
  }
  const offerers = await loadOfferers();
  const offerer = offerers.find((found) => found.id === offer.offererId);
  const subcategory = (subcategories || []).find((found) => found.id === offer.subcategoryId);
  const isEvent = Boolean(subcategory?.isEvent);
  const reload = (text, kind = "ok") => renderOffer(view, offerId, { text, kind });
  const banner = message
    ? h("div", { class: `message message-${message.kind}`, role: message.kind === "error" ? "alert" : "status",
      tabindex: "-1" }, message.text)
    : null;
  page(view, offer.name,
    ...[banner].filter(Boolean),
    h("dl", { class: "facts" },
      h("dt", {}, "Statut"), h("dd", {}, statusBadge(offer.status)),
      h("dt", {}, "Catégorie"), h("dd", {}, labelOf(offer.subcategoryId)),
      h("dt", {}, "Lieu"), h("dd", {}, offer.venue.name),
      offer.book ? [h("dt", {}, "Auteur"), h("dd", {}, offer.book.author || "—"),
        h("dt", {}, "Éditeur"), h("dd", {}, offer.book.publisher || "—")] : [],
      offer.ean ? [h("dt", {}, "EAN"), h("dd", {}, offer.ean)] : [],
      offer.isDuo ? [h("dt", {}, "Duo"), h("dd", {}, "Oui : un jeune peut réserver deux places")] : []),
    h("p", {}, h("a", { href: `#/offres?lieu=${encodeURIComponent(offer.venueId)}` },
      `Toutes les offres de ${offer.venue.name}`)),
    offerer?.validationStatus === "NEW"
      ? h("p", { class: "message message-info" }, "Votre structure est en attente de validation par l'équipe " +
        "pass Culture : cette offre sera visible et réservable dès sa validation.")
      : "",
    imageSection(offer, reload),
    accrocheSection(offer, reload),
    stocksSection(offer, isEvent, reload),
    publicationSection(offer, offerer?.validationStatus === "NEW", reload));
  banner?.focus();
}

function imageSection(offer, reload) {
  const current = offer.imageUrl
    ? h("img", { class: "offer-image", src: offer.imageUrl, alt: `Image de l'offre «\u00a0${offer.name}\u00a0»` })
    : h("p", { class: "muted" }, "Cette offre n'a pas encore d'image.");
  if (offer.imageUrl) {
    current.addEventListener("error", () => current.replaceWith(h("p", { class: "message message-error" },
      "L'image n'a pas pu être affichée : envoyez-la de nouveau.")));
  }
  const form = h("form", { novalidate: true },
    field("Fichier de l'image", { type: "file", name: "image", accept: Object.keys(IMAGE_TYPES).join(","),
      hint: "JPEG, PNG ou WebP, 10 Mo au plus. Une image en hauteur (format portrait) s'affiche le mieux." }),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, offer.imageUrl ? "Remplacer l'image" : "Envoyer l'image")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitForm(form, async () => {
      const file = form.elements.namedItem("image").files[0];
      if (!file) throw formError([{ field: "image", message: "Choisissez une image." }]);
      if (!IMAGE_TYPES[file.type]) {
        throw formError([{ field: "image", message: "L'image doit être en JPEG, PNG ou WebP." }]);
      }
      if (file.size > MAX_IMAGE_BYTES) {
        throw formError([{ field: "image", message: "L'image dépasse 10 Mo : réduisez-la." }]);
      }
      const { upload } = await api(`/offers/${encodeURIComponent(offer.id)}/image`,
        { method: "POST", body: { contentType: file.type } });
      if (file.size > upload.maxBytes) throw formError([{ field: "image", message: "L'image est trop lourde." }]);
      const data = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) data.append(name, value);
      data.append("file", file); // last: the storage reads the fields before the file
      let response;
      try {
        response = await fetch(upload.url, { method: "POST", body: data });
      } catch {
        throw new Error("L'image n'a pas pu être envoyée : vérifiez votre connexion internet puis réessayez.");
      }
      if (!response.ok) {
        throw new Error(`L'image a été refusée par le stockage (erreur ${response.status}) : vérifiez son format ` +
          "et sa taille, puis réessayez.");
      }
      return true;
    }, "Envoi de l'image…");
    if (done) await reload("L'image est enregistrée.");
  });
  return h("section", { "aria-labelledby": "titre-image" },
    h("h2", { id: "titre-image" }, "Image"), current, form);
}

function accrocheSection(offer, reload) {
  const form = h("form", { novalidate: true },
    field("Texte de l'accroche", { as: "textarea", name: "description", maxlength: 10000,
      hint: "Quelques lignes qui donnent envie de découvrir l'offre : les jeunes les lisent dans l'application." }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Enregistrer l'accroche")));
  form.elements.namedItem("description").value = offer.description || "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitForm(form, ({ description }) => precise(() =>
      api(`/offers/${encodeURIComponent(offer.id)}`, { method: "PATCH", body: { description: description.trim() } })),
    "Enregistrement…");
    if (done) await reload("L'accroche est enregistrée.");
  });
  return h("section", { "aria-labelledby": "titre-accroche" },
    h("h2", { id: "titre-accroche" }, "Accroche"), form);
}

/** The fields of a stock (new, or `stock` to edit), named as the API names them. */
function stockFields(isEvent, stock = null, prefix = "") {
  const id = (name) => `${prefix}${name}`;
  return [
    isEvent ? h("div", { class: "row" },
      field("Début", { type: "datetime-local", name: "beginningDatetime", id: id("debut"), required: true,
        value: toLocalInput(stock?.beginningDatetime) }),
      field("Fin des réservations", { type: "datetime-local", name: "bookingLimitDatetime", id: id("limite"),
        value: toLocalInput(stock?.bookingLimitDatetime), hint: "Facultatif : par défaut, jusqu'au début." })) : null,
    h("div", { class: "row" },
      field("Prix (€)", { name: "priceCents", id: id("prix"), inputmode: "decimal", required: true,
        value: stock ? (stock.priceCents / 100).toFixed(2).replace(".", ",") : "",
        hint: "0 pour une offre gratuite." }),
      field(isEvent ? "Places" : "Quantité", { name: "quantity", id: id("quantite"), inputmode: "numeric",
        value: stock?.quantity ?? "",
        hint: stock?.bookedQuantity
          ? `Vide : illimité. Au moins ${stock.bookedQuantity}, ` +
            `déjà réservé${stock.bookedQuantity > 1 ? "s" : ""}.`
          : "Vide : illimité." })),
  ];
}

/** The API's body for a stock, from its fields (only what changed, for an edit); or the form's errors. */
function stockBody(values, isEvent, stock = null) {
  const problems = [];
  const body = {};
  const priceCents = parseEuros(values.priceCents);
  const priceError = priceProblem(priceCents);
  if (priceError) problems.push({ field: "priceCents", message: priceError });
  else if (!stock || priceCents !== stock.priceCents) body.priceCents = priceCents;
  const quantity = parseQuantity(values.quantity);
  const quantityError = quantityProblem(quantity, stock?.bookedQuantity || 0);
  if (quantityError) problems.push({ field: "quantity", message: quantityError });
  else if (!stock) { if (quantity !== null) body.quantity = quantity; }
  else if (quantity !== stock.quantity) {
    if (quantity === null) body.unlimited = true;
    else body.quantity = quantity;
  }
  if (isEvent) {
    const beginning = localInputToIso(values.beginningDatetime);
    const limit = localInputToIso(values.bookingLimitDatetime);
    if (!beginning) problems.push({ field: "beginningDatetime", message: "Indiquez le jour et l'heure du début." });
    if (values.bookingLimitDatetime && !limit) {
      problems.push({ field: "bookingLimitDatetime", message: "Une date et une heure." });
    } else if (limit && beginning && limit > beginning) {
      problems.push({ field: "bookingLimitDatetime", message: "La fin des réservations doit précéder le début." });
    }
    const changed = !stock || toLocalInput(stock.beginningDatetime) !== values.beginningDatetime ||
      toLocalInput(stock.bookingLimitDatetime) !== (values.bookingLimitDatetime || "");
    if (beginning && changed) {
      if (new Date(beginning).getTime() <= Date.now()) {
        problems.push({ field: "beginningDatetime", message: "La date de l'événement doit être à venir." });
      }
      body.beginningDatetime = beginning;
      if (limit) body.bookingLimitDatetime = limit;
    }
  }
  if (problems.length) throw formError(problems);
  return body;
}

function stocksSection(offer, isEvent, reload) {
  const what = isEvent ? "date" : "stock";
  const editor = h("div", {});
  const edit = (stock, button) => {
    const heading = h("h3", { id: "titre-modifier", tabindex: "-1" },
      isEvent ? `Modifier la date du ${formatDateTime(stock.beginningDatetime)}` : "Modifier le stock");
    const cancel = h("button", { type: "button", class: "button-secondary" }, "Annuler");
    const form = h("form", { novalidate: true },
      stockFields(isEvent, stock, "modifier-"),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Enregistrer"), cancel));
    cancel.addEventListener("click", () => { editor.replaceChildren(); button.focus(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const done = await submitForm(form, (values) => precise(() => {
        const body = stockBody(values, isEvent, stock);
        if (!Object.keys(body).length) throw new Error("Rien n'a changé.");
        return api(`/stocks/${encodeURIComponent(stock.id)}`, { method: "PATCH", body });
      }, { QUANTITY_BELOW_BOOKED: "quantity" }), "Enregistrement…");
      if (done) await reload(isEvent ? "La date est modifiée." : "Le stock est modifié.");
    });
    editor.replaceChildren(h("div", { class: "card" }, heading, form));
    heading.focus();
  };
  const columns = [
    ...(isEvent ? [
      ["Début", (stock) => formatDateTime(stock.beginningDatetime)],
      ["Fin des réservations", (stock) => formatDateTime(stock.bookingLimitDatetime)],
    ] : []),
    ["Prix", (stock) => (stock.priceCents === 0 ? "Gratuit" : formatCents(stock.priceCents))],
    [isEvent ? "Places" : "Quantité", (stock) => (stock.quantity === null ? "Illimitée" : String(stock.quantity))],
    ["Réservé", (stock) => String(stock.bookedQuantity || 0)],
    ["Restant", (stock) => (stock.remainingQuantity === null ? "Illimité" : String(stock.remainingQuantity))],
    ["Réservable", (stock) => (stock.isBookable ? "Oui" : "Non")],
    ["Action", (stock) => {
      const button = h("button", { type: "button", class: "button-secondary" }, "Modifier",
        h("span", { class: "visually-hidden" },
          isEvent ? ` la date du ${formatDateTime(stock.beginningDatetime)}` : " le stock"));
      button.addEventListener("click", () => edit(stock, button));
      return button;
    }],
  ];
  const addForm = h("form", { novalidate: true },
    stockFields(isEvent, null, "ajout-"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, isEvent ? "Ajouter la date" : "Ajouter le stock")));
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitForm(addForm, (values) => precise(() =>
      api(`/offers/${encodeURIComponent(offer.id)}/stocks`, { method: "POST", body: stockBody(values, isEvent) })),
    "Ajout…");
    if (done) await reload(isEvent ? "La date est ajoutée." : "Le stock est ajouté.");
  });
  return h("section", { "aria-labelledby": "titre-stocks" },
    h("h2", { id: "titre-stocks" }, isEvent ? "Dates" : "Stock"),
    quietCaption(table(isEvent ? "Dates de l'événement" : "Stock de l'offre", columns, offer.stocks,
      isEvent ? "Aucune date : ajoutez-en une pour que l'événement soit réservable."
        : "Aucun stock : ajoutez-en un pour que l'offre soit réservable.")),
    editor,
    h("h3", { id: "titre-ajout" }, isEvent ? "Ajouter une date" : `Ajouter un ${what}`),
    addForm);
}

function publicationSection(offer, waiting, reload) {
  const section = h("section", { "aria-labelledby": "titre-publication" },
    h("h2", { id: "titre-publication" }, "Publication"));
  if (!offer.isActive) {
    const button = h("button", { type: "button" }, "Réactiver l'offre");
    button.addEventListener("click", async () => {
      try {
        await withProgress(() => api(`/offers/${encodeURIComponent(offer.id)}`,
          { method: "PATCH", body: { isActive: true } }), button, "Réactivation…");
        await reload("L'offre est réactivée : les jeunes peuvent de nouveau la réserver.");
      } catch (error) {
        showMessage(section, error.message);
      }
    });
    section.append(h("p", {}, "Cette offre est désactivée : les jeunes ne la voient plus et ne peuvent plus la " +
      "réserver. Les réservations déjà faites restent valables."), h("div", { class: "actions" }, button));
    return section;
  }
  const ask = h("button", { type: "button", class: "button-danger" }, "Désactiver l'offre");
  const confirmBox = h("div", {});
  ask.addEventListener("click", () => {
    const question = h("p", { id: "confirmer-desactivation", tabindex: "-1" },
      h("strong", {}, `Désactiver «\u00a0${offer.name}\u00a0» ?`),
      " Elle ne sera plus visible ni réservable. Les réservations déjà faites restent valables : honorez-les.");
    const yes = h("button", { type: "button", class: "button-danger" }, "Oui, désactiver l'offre");
    const no = h("button", { type: "button", class: "button-secondary" }, "Annuler");
    no.addEventListener("click", () => { confirmBox.replaceChildren(); ask.hidden = false; ask.focus(); });
    yes.addEventListener("click", async () => {
      try {
        await withProgress(() => api(`/offers/${encodeURIComponent(offer.id)}`, { method: "DELETE" }), yes,
          "Désactivation…");
        await reload("L'offre est désactivée.");
      } catch (error) {
        showMessage(confirmBox, error.message);
      }
    });
    ask.hidden = true;
    confirmBox.replaceChildren(h("div", { class: "card", role: "group", "aria-labelledby": "confirmer-desactivation" },
      question, h("div", { class: "actions" }, yes, no)));
    question.focus();
  });
  section.append(h("p", {}, waiting
    ? "Cette offre est active : les jeunes la verront et pourront la réserver dès la validation de votre structure."
    : "Cette offre est publiée : les jeunes la voient et peuvent la réserver."),
    h("div", { class: "actions" }, ask), confirmBox);
  return section;
}
