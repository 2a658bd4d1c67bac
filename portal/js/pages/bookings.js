// "Suivi des réservations": the bookings of the pro's offerer (GET /pro/bookings), filtered by type (individual or
// collective: `kind=`), venue, offer, status, period and event day, page by page (the API's cursor), and their CSV
// export — fetched with the pro's token (a plain link would not carry it) and saved as reservations.csv. Collective
// bookings (school groups) show their institution where individual ones show the young person.
import { api } from "../api.js";
import { currentOfferer, noOffererYet, offererPicker } from "../context.js";
import { registerMessages } from "../messages.js";
import { clearErrors, field, formatCents, formatDateTime, h, page, setFieldError, showMessage, table, withProgress }
  from "../ui.js";

const PAGE_SIZE = 20;
const FILTERS = ["kind", "venueId", "offerId", "status", "from", "to", "eventDate"];
// GET /pro/bookings `kind=`
const KINDS = [["individual", "Individuelles"], ["collective", "Collectives"]];

registerMessages({
  OFFERER_REQUIRED: "Choisissez la structure dont vous voulez voir les réservations.",
});

// GET /pro/bookings `status=`: the statuses the bookings show
export const STATUSES = [
  ["CONFIRMED", "Réservée"],
  ["USED", "Validée"],
  ["REIMBURSED", "Remboursée"],
  ["CANCELLED", "Annulée"],
];
const STATUS_LABEL = Object.fromEntries(STATUSES);
const BADGE = { CONFIRMED: "badge", USED: "badge badge-ok", REIMBURSED: "badge badge-ok", CANCELLED: "badge badge-error" };
const CANCELLED_BY = { BENEFICIARY: "par le jeune", OFFERER: "par la structure", EXPIRED: "non retirée à temps" };
// a collective booking: pre-booked by a teacher, confirmed by the institution's head
const COLLECTIVE_LABEL = { ...STATUS_LABEL, PENDING: "Préréservée", CONFIRMED: "Confirmée" };
const COLLECTIVE_CANCELLED_BY = { OFFERER: "par la structure", INSTITUTION: "par l'établissement",
  EXPIRED: "non confirmée à temps" };

function statusCell(booking, collective = false) {
  const label = (collective ? COLLECTIVE_LABEL : STATUS_LABEL)[booking.status] || booking.status;
  const badge = h("span", { class: BADGE[booking.status] || "badge" }, label);
  let when = null;
  if (booking.status === "USED") {
    when = `le ${formatDateTime(booking.usedAt)}${booking.validationAuthor === "AUTO" ? " (automatiquement)" : ""}`;
  } else if (booking.status === "REIMBURSED") {
    when = `le ${formatDateTime(booking.reimbursedAt)}`;
  } else if (booking.status === "CANCELLED") {
    const by = (collective ? COLLECTIVE_CANCELLED_BY : CANCELLED_BY)[booking.cancellationReason];
    when = `le ${formatDateTime(booking.cancelledAt)}${by ? `, ${by}` : ""}`;
  }
  return [badge, when ? h("div", { class: "muted" }, when) : null];
}

function priceCell(booking) {
  return booking.amountCents === 0 ? "Gratuit" : formatCents(booking.amountCents);
}

function beneficiaryCell(booking) {
  const person = booking.beneficiary || {};
  return [`${person.firstName || ""} ${person.lastName || ""}`.trim(), h("div", { class: "muted" }, person.email)];
}

/** The table's columns; the venue under the offer only when the offerer has several. */
const columns = (severalVenues) => [
  ["Contremarque", (b) => h("span", { class: "countermark" }, b.token)],
  ["Offre", (b) => [b.offerName, severalVenues ? h("div", { class: "muted" }, b.venueName) : null]],
  ["Bénéficiaire", beneficiaryCell],
  ["Réservée le", (b) => formatDateTime(b.bookedAt)],
  ["Évènement", (b) => (b.eventDate ? formatDateTime(b.eventDate) : "—")],
  ["Places", (b) => (b.quantity === 2 ? "2 (duo)" : String(b.quantity))],
  ["Prix", priceCell],
  ["Statut", statusCell],
];

/** A collective booking's columns: the institution (and the teacher) instead of the young person. */
const collectiveColumns = (severalVenues) => [
  ["Offre collective", (b) => [b.offerName, severalVenues ? h("div", { class: "muted" }, b.venueName) : null]],
  ["Établissement", (b) => [b.institutionName, h("div", { class: "muted" }, `UAI ${b.uai}`),
    h("div", { class: "muted" }, b.teacherEmail)]],
  ["Réservée le", (b) => formatDateTime(b.bookedAt)],
  ["Évènement", (b) => formatDateTime(b.startDatetime)],
  ["Élèves", (b) => String(b.numberOfStudents)],
  ["Prix", (b) => (b.totalPriceCents === 0 ? "Gratuit" : formatCents(b.totalPriceCents))],
  ["Statut", (b) => statusCell(b, true)],
];

/** The filters as the API takes them (empty ones left out by api()); no offer for collective bookings: the list of
 * offers is the individual ones'. */
function filtersOf(form) {
  const found = Object.fromEntries(FILTERS.map((name) => [name, form.elements.namedItem(name).value]));
  if (found.kind === "collective") found.offerId = "";
  return found;
}

/** reservations.csv, fetched with the token: a Blob saved through a temporary link. */
async function download(query) {
  const response = await api("/pro/bookings/export", { query: { ...query, format: "csv" }, raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: "reservations.csv", hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export default async function bookings(view, { params }) {
  const offerer = await currentOfferer();
  if (!offerer) {
    page(view, "Suivi des réservations", noOffererYet());
    return;
  }
  const picker = await offererPicker(() => bookings(view, { params: new URLSearchParams() }));
  const venues = offerer.venues || [];

  const kindField = field("Type", {
    as: "select", name: "kind", options: KINDS,
    value: KINDS.some(([value]) => value === params.get("kind")) ? params.get("kind") : "individual",
  });
  const venueField = field("Lieu", {
    as: "select", name: "venueId", options: [["", "Tous les lieux"], ...venues.map((v) => [v.id, v.name])],
    value: venues.some((v) => v.id === params.get("venueId")) ? params.get("venueId") : "",
  });
  const offerField = field("Offre", { as: "select", name: "offerId", options: [["", "Toutes les offres"]] });
  const statusField = field("Statut", {
    as: "select", name: "status", options: [["", "Tous les statuts"], ...STATUSES],
    value: STATUS_LABEL[params.get("status")] ? params.get("status") : "",
  });
  const form = h("form", { class: "filters", novalidate: true, "aria-labelledby": "filtres-titre" },
    h("h2", { id: "filtres-titre" }, "Filtres"),
    h("div", { class: "row" }, kindField, venueField, offerField, statusField),
    h("div", { class: "row" },
      field("Du", { type: "date", name: "from", value: params.get("from") || "" }),
      field("Au", { type: "date", name: "to", value: params.get("to") || "" }),
      field("Jour de l'évènement", { type: "date", name: "eventDate", value: params.get("eventDate") || "" })),
    h("p", { class: "hint" }, "La période porte sur la date de réservation ou, quand un statut est choisi, sur la date "
      + "de ce statut (validation, annulation, remboursement)."),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Afficher les réservations"),
      h("button", { type: "reset", class: "button-secondary" }, "Effacer les filtres"),
      h("button", { type: "button", class: "button-secondary", id: "export-csv" }, "Télécharger le fichier CSV")));

  const results = h("section", { "aria-labelledby": "resultats-titre" },
    h("h2", { id: "resultats-titre" }, "Réservations"));
  const summary = h("p", { role: "status", class: "muted" });
  const listing = h("div");
  const pager = h("div", { class: "pager" });
  results.append(summary, listing, pager);

  page(view, "Suivi des réservations",
    h("p", {}, `Les réservations des offres de ${offerer.name}. Pour valider une contremarque, allez au `,
      h("a", { href: "#/guichet" }, "guichet"), "."),
    ...(picker ? [picker] : []), form, results);

  // -- the offers of the chosen venue (or of every venue), for the "Offre" filter
  const offerSelect = form.elements.namedItem("offerId");
  async function loadOffers(wanted) {
    const chosen = form.elements.namedItem("venueId").value;
    const ids = chosen ? [chosen] : venues.map((v) => v.id);
    try {
      const pages = await Promise.all(ids.map((id) => api(`/venues/${id}/offers`, { query: { limit: 100 } })));
      const offers = pages.flatMap((p) => p.items || []).sort((a, b) => a.name.localeCompare(b.name, "fr"));
      offerSelect.replaceChildren(h("option", { value: "" }, "Toutes les offres"),
        ...offers.map((offer) => h("option", { value: offer.id }, offer.name)));
      offerSelect.value = offers.some((o) => o.id === wanted) ? wanted : "";
    } catch {
      // the filter stays usable with "Toutes les offres": the list is a help, not a need
    }
  }
  form.elements.namedItem("venueId").addEventListener("change", () => loadOffers(offerSelect.value));
  // collective bookings are not filtered by offer (the list holds the individual offers)
  const kindSelect = form.elements.namedItem("kind");
  const offerForKind = () => {
    offerSelect.disabled = kindSelect.value === "collective";
    if (offerSelect.disabled) offerSelect.value = "";
  };
  kindSelect.addEventListener("change", offerForKind);

  // -- the list, page by page: cursors of the pages seen so far (the first page has none)
  let cursors = [null];
  let query = {};

  async function show(pageIndex, button) {
    try {
      const answer = await withProgress(
        () => api("/pro/bookings", { query: { ...query, offererId: offerer.id, limit: PAGE_SIZE,
          cursor: cursors[pageIndex] || undefined } }),
        button, "Chargement…");
      cursors = cursors.slice(0, pageIndex + 1);
      if (answer.nextCursor) cursors.push(answer.nextCursor);
      render(answer.items || [], pageIndex, Boolean(answer.nextCursor));
    } catch (error) {
      listing.replaceChildren();
      pager.replaceChildren();
      summary.textContent = "";
      showMessage(listing, error.message || "Les réservations n'ont pas pu être chargées.");
    }
  }

  function render(items, pageIndex, hasMore) {
    const filtered = Object.entries(query).some(([name, value]) => name !== "kind" && value);
    const count = `${items.length} réservation${items.length > 1 ? "s" : ""}`;
    summary.textContent = items.length ? `${count} affichée${items.length > 1 ? "s" : ""}, page ${pageIndex + 1}.` : "";
    if (pageIndex > 0 && !items.length) { // the API's cursor may lead to an empty last page
      listing.replaceChildren(h("p", { class: "message message-info" },
        "Il n'y a pas d'autre réservation : vous les avez toutes vues."));
    } else {
      const collective = query.kind === "collective";
      const caption = `Réservations${collective ? " collectives" : ""} de ${offerer.name}, page ${pageIndex + 1}`;
      const shown = (collective ? collectiveColumns : columns)(venues.length > 1);
      listing.replaceChildren(table(caption, shown, items,
        filtered ? "Aucune réservation ne correspond à ces filtres." : "Aucune réservation pour le moment."));
    }
    pager.replaceChildren();
    if (pageIndex > 0) {
      const previous = h("button", { type: "button", class: "button-secondary" }, "Page précédente");
      previous.addEventListener("click", async () => { await show(pageIndex - 1, previous); focusResults(); });
      pager.append(previous);
    }
    if (hasMore) {
      const next = h("button", { type: "button", class: "button-secondary" }, "Page suivante");
      next.addEventListener("click", async () => { await show(pageIndex + 1, next); focusResults(); });
      pager.append(next);
    }
  }

  function focusResults() {
    const heading = results.querySelector("h2");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  /** The filters' own checks (a period that ends before it starts); true when the query may be sent. */
  function checked() {
    clearErrors(form);
    const { from, to } = filtersOf(form);
    if (from && to && to < from) {
      setFieldError(form, "to", "La date de fin doit être le même jour que la date de début ou après.");
      form.elements.namedItem("to").focus();
      return false;
    }
    return true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!checked()) return;
    query = filtersOf(form);
    cursors = [null];
    await show(0, form.querySelector("button[type=submit]"));
  });
  form.addEventListener("reset", () => {
    setTimeout(async () => { // after the browser emptied the fields
      clearErrors(form);
      offerForKind();
      await loadOffers("");
      query = {};
      cursors = [null];
      await show(0);
    });
  });
  form.querySelector("#export-csv").addEventListener("click", async (event) => {
    if (!checked()) return;
    const button = event.currentTarget;
    try {
      await withProgress(() => download({ ...filtersOf(form), offererId: offerer.id }), button,
        "Préparation du fichier…");
      showMessage(form, "Le fichier reservations.csv a été téléchargé.", "ok");
    } catch (error) {
      showMessage(form, error.message || "Le fichier n'a pas pu être préparé.");
    }
  });

  await loadOffers(params.get("offerId") || "");
  offerForKind();
  query = filtersOf(form);
  await show(0);
}
