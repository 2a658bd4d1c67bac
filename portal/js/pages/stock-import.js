// Importation d'offres: a bookshop's venue connected to its stock software (the nightly import, matched by the
// venue's SIRET), the import runs' reports with their rejected lines, and a file sent by hand (CSV or JSON, read in
// the browser and pushed in the providers' format).
import { api } from "../api.js";
import { allVenues, loadOfferers, noOffererYet } from "../context.js";
import { registerMessages } from "../messages.js";
import { field, formatDateTime, h, page, showMessage, submitForm, withProgress } from "../ui.js";
import { formatSiret } from "./structures.js";

registerMessages({
  VENUE_NOT_FOUND: "Ce lieu n'existe pas.",
  VENUE_WITHOUT_SIRET: "Ce lieu n'a pas de SIRET : les logiciels de stock reconnaissent les lieux par leur SIRET, " +
    "son stock ne peut donc pas être synchronisé. Envoyez plutôt un fichier.",
  PROVIDER_URL_REFUSED: "Cette adresse ne peut pas être utilisée : une adresse publique en https, sans identifiant " +
    "ni mot de passe (donnez le jeton dans son champ).",
  PROVIDER_REFUSED: "Le logiciel de stock n'a pas accepté la connexion.",
  PAYLOAD_TOO_LARGE: "Le fichier a trop de lignes pour un seul envoi : découpez-le (10 000 lignes au plus).",
});

export const PROVIDERS = [
  ["titelive", "Tite Live / Medialog"],
  ["gestock", "Gestock"],
  ["praxiel", "Praxiel"],
  ["librisoft", "Librisoft"],
  ["placedeslibraires", "placedeslibraires.fr"],
  ["leslibraires", "leslibraires.fr"],
];
const ORIGINS = Object.fromEntries([...PROVIDERS, ["push", "Fichier ou envoi direct"]]);
const STATUS = {
  RUNNING: ["En cours", "badge"],
  SUCCESS: ["Réussi", "badge badge-ok"],
  PARTIAL: ["Réussi, avec des lignes rejetées", "badge"],
  FAILED: ["Échoué", "badge badge-error"],
};
// why a line was set aside (stock_import/rules.py and service.py)
const REJECTIONS = {
  MISSING_REF: "Référence (EAN) manquante",
  BAD_EAN: "EAN invalide : 13 chiffres attendus, dont la clé de contrôle",
  MISSING_AVAILABLE: "Quantité disponible manquante",
  NEGATIVE_AVAILABLE: "Quantité disponible négative",
  BAD_AVAILABLE: "Quantité disponible invalide : un nombre entier, 1 000 000 au plus",
  BAD_PRICE: "Prix invalide : un montant entre 0 et 300 €",
  MISSING_PRICE: "Prix manquant, et le catalogue n'en donne pas",
  UNKNOWN_BOOK: "Livre absent du catalogue du pass Culture",
  INELIGIBLE_BOOK: "Livre scolaire ou parascolaire (CLIL 3000 ou 3013) : non éligible au pass Culture",
  DUPLICATE_REF: "Même EAN plusieurs fois dans l'envoi : seule la dernière ligne compte",
  WRITE_CONFLICT: "L'offre a changé pendant l'import : ligne laissée telle quelle",
};
// why a provider's run failed, or a connection was refused (stock_import/provider.py)
const FAILURES = {
  TIMEOUT: "le logiciel de stock n'a pas répondu à temps",
  UNREACHABLE: "le logiciel de stock est injoignable à cette adresse",
  HTTP_ERROR: "le logiciel de stock a répondu par une erreur",
  NOT_JSON: "la réponse du logiciel de stock n'est pas au format JSON attendu",
  BAD_SHAPE: "la réponse du logiciel de stock n'a pas le format attendu ({\"stocks\": [...]})",
  REPEATED_PAGE: "le logiciel de stock renvoie toujours la même page",
  TOO_MANY_PAGES: "le logiciel de stock renvoie trop de pages : import interrompu",
  ABANDONED: "le lieu a été connecté à un autre logiciel pendant l'import",
};
const LAST_VENUE = "passculture-pro-venue"; // shared with the offers' pages
const MAX_LINES = 10_000;
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const REPORTS_PAGE = 10;
const HEADER = "ref;available;price";

const plural = (count, one, many) => `${count} ${count > 1 ? many : one}`;
const rejectedCount = (report) => Object.values(report.rejected || {}).reduce((sum, count) => sum + count, 0);

/** An error of the form itself, shown as submitForm shows the API's. */
function formError(message, fieldName) {
  const error = new Error(message);
  error.fields = fieldName ? [{ field: fieldName, message }] : [];
  return error;
}

function withLoading(work) {
  const bar = document.getElementById("progress");
  bar?.classList.add("busy");
  return work().finally(() => bar?.classList.remove("busy"));
}

export default async function stockImport(view, { params }) {
  const venues = await withLoading(() => allVenues());
  if (!venues.length) {
    const offerers = await loadOfferers();
    page(view, "Importation d'offres", offerers.length
      ? h("div", { class: "message message-info" }, "Votre structure n'a pas encore de lieu. ",
        h("a", { href: `#/structures?nouveau-lieu=${encodeURIComponent(offerers[0].id)}` }, "Ajoutez un lieu"), ".")
      : noOffererYet());
    return;
  }
  const wanted = params.get("lieu") || sessionStorage.getItem(LAST_VENUE);
  let venue = venues.find((found) => found.id === wanted) || venues.find((found) => found.siret) || venues[0];
  sessionStorage.setItem(LAST_VENUE, venue.id);
  const several = new Set(venues.map((found) => found.offererId)).size > 1;
  const picker = field("Lieu", { as: "select", name: "lieu", value: venue.id,
    options: venues.map((found) => [found.id, several ? `${found.name} (${found.offererName})` : found.name]) });
  const body = h("div", {});
  const announce = h("p", { class: "visually-hidden", "aria-live": "polite" });
  picker.querySelector("select").addEventListener("change", async (event) => {
    venue = venues.find((found) => found.id === event.target.value);
    sessionStorage.setItem(LAST_VENUE, venue.id);
    window.history.replaceState(null, "", `#/importation?lieu=${encodeURIComponent(venue.id)}`);
    await showVenue(body, venue);
    announce.textContent = `Importation de ${venue.name} affichée.`;
  });
  page(view, "Importation d'offres",
    h("p", {}, "Une librairie équipée d'un logiciel de stock (Tite Live / Medialog, Gestock, Praxiel, Librisoft, " +
      "placedeslibraires.fr, leslibraires.fr) publie ses livres sur le pass Culture sans les saisir : chaque nuit, " +
      "vers 1 h, le stock du lieu est importé de son logiciel, qui le reconnaît par son SIRET. Les livres " +
      "disponibles deviennent des offres, leurs quantités sont mises à jour. Vous pouvez aussi envoyer un fichier."),
    h("div", { class: "venue-picker" }, picker), announce, body);
  await showVenue(body, venue);
}

async function showVenue(container, venue, message = null) {
  let answer;
  try {
    answer = await withLoading(() => api(`/venues/${encodeURIComponent(venue.id)}/stock-imports`,
      { query: { limit: REPORTS_PAGE } }));
  } catch (error) {
    container.replaceChildren(h("p", { class: "message message-error", role: "alert" }, error.message));
    return;
  }
  const refresh = (text, kind = "ok") => showVenue(container, venue, text ? { text, kind } : null);
  const banner = message
    ? h("div", { class: `message message-${message.kind}`, role: message.kind === "error" ? "alert" : "status",
      tabindex: "-1" }, message.text)
    : null;
  const pushed = (text, runId) => showVenue(container, venue, { text, kind: "ok", runId });
  const files = fileSection(venue, answer.connection ?? null, pushed);
  if (banner && message.runId) files.append(banner); // the file's result, under its form
  container.replaceChildren(
    ...[message?.runId ? null : banner].filter(Boolean),
    connectionSection(venue, answer.connection ?? null, refresh),
    files,
    reportsSection(venue, answer, refresh, message?.runId));
  banner?.focus();
}

// -- the stock software --------------------------------------------------------------------------------------------
function connectionSection(venue, connection, refresh) {
  const section = h("section", { "aria-labelledby": "titre-logiciel" },
    h("h2", { id: "titre-logiciel" }, "Logiciel de stock"));
  if (!venue.siret) {
    section.append(h("p", { class: "message message-info" }, "Ce lieu n'a pas de SIRET : les logiciels de stock " +
      "reconnaissent les lieux par leur SIRET, son stock ne peut donc pas être synchronisé chaque nuit. " +
      "Vous pouvez envoyer un fichier (ci-dessous)."));
    return section;
  }
  if (connection) {
    const disconnect = h("button", { type: "button", class: "button-danger" }, "Déconnecter le lieu");
    disconnect.addEventListener("click", async () => {
      try {
        await withProgress(() => api(`/venues/${encodeURIComponent(venue.id)}/stock-provider`, { method: "DELETE" }),
          disconnect, "Déconnexion…");
        await refresh("Le lieu est déconnecté : l'import de chaque nuit s'arrête. Les offres déjà importées " +
          "restent en ligne, avec leur dernier stock.");
      } catch (error) {
        showMessage(section, error.message);
      }
    });
    section.append(
      h("p", { class: "message message-ok" }, `Ce lieu est connecté à ${ORIGINS[connection.provider] ||
        connection.provider} depuis le ${formatDateTime(connection.connectedAt)} : son stock est importé ` +
        "chaque nuit."),
      h("dl", { class: "facts" },
        h("dt", {}, "Adresse de l'API"), h("dd", { class: "break" }, connection.baseUrl),
        h("dt", {}, "Jeton d'accès"),
        h("dd", {}, connection.hasToken ? "Enregistré (il n'est jamais affiché)" : "Aucun"),
        h("dt", {}, "Prix"), h("dd", {}, connection.pricesInCents ? "En centimes" : "En euros")),
      h("div", { class: "actions" }, disconnect),
      h("h3", {}, "Changer de logiciel, d'adresse ou de jeton"));
  } else {
    section.append(h("p", {}, "Ce lieu n'est connecté à aucun logiciel de stock. Le logiciel reconnaît le lieu " +
      `par son SIRET (${formatSiret(venue.siret)}) : demandez-lui l'adresse de son API de stock pour le pass ` +
      "Culture."));
  }
  section.append(connectForm(venue, connection, refresh));
  return section;
}

function connectForm(venue, connection, refresh) {
  const form = h("form", { novalidate: true, "aria-label": "Connexion au logiciel de stock" },
    field("Logiciel", { as: "select", name: "provider", required: true, options: PROVIDERS,
      value: connection?.provider || "titelive" }),
    field("Adresse de l'API de stock", { type: "url", name: "baseUrl", required: true, autocomplete: "off",
      value: connection?.baseUrl || "",
      hint: "Donnée par votre logiciel, par exemple https://api.monlogiciel.fr/stocks." }),
    field("Jeton d'accès", { type: "password", name: "token", autocomplete: "off", maxlength: 500,
      hint: connection?.hasToken
        ? "Laissez vide pour vous connecter sans jeton ; saisissez-le de nouveau pour le garder."
        : "Facultatif : si votre logiciel vous en a donné un." }),
    h("div", { class: "choice" },
      h("input", { type: "checkbox", name: "pricesInCents", id: "prix-centimes", value: "oui",
        checked: Boolean(connection?.pricesInCents), "aria-describedby": "prix-centimes-aide" }),
      h("label", { for: "prix-centimes" }, "Les prix de ce logiciel sont en centimes"),
      h("p", { class: "hint", id: "prix-centimes-aide" },
        "Par défaut, les prix sont lus en euros (12.5 = 12,50 €).")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, connection ? "Enregistrer" : "Connecter le lieu")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitForm(form, async (values) => {
      const baseUrl = String(values.baseUrl || "").trim();
      if (!/^https?:\/\/\S+$/.test(baseUrl)) {
        throw formError("Une adresse web commençant par https://, par exemple https://api.monlogiciel.fr/stocks.",
          "baseUrl");
      }
      const body = { provider: values.provider, baseUrl, pricesInCents: Boolean(values.pricesInCents) };
      if (values.token) body.token = values.token;
      try {
        return await api(`/venues/${encodeURIComponent(venue.id)}/stock-provider`, { method: "PUT", body });
      } catch (error) {
        if (error.code === "PROVIDER_REFUSED") {
          error.message = `Le logiciel de stock n'a pas accepté la connexion : ${providerProblem(error.details?.[0],
            venue.siret)}. Vérifiez le logiciel choisi, l'adresse et le jeton.`;
          error.fields = [{ field: "baseUrl", message: error.message }];
        } else if (error.code === "PROVIDER_URL_REFUSED") {
          error.fields = [{ field: "baseUrl", message: error.message }];
        }
        throw error;
      }
    }, "Connexion…");
    if (done) await refresh(`Le lieu est connecté à ${ORIGINS[done.provider] || done.provider} : son stock sera ` +
      "importé cette nuit, puis chaque nuit.");
  });
  return form;
}

function providerProblem(detail, siret) {
  const status = detail?.status;
  if (detail?.reason === "HTTP_ERROR" && (status === 401 || status === 403)) return "il a refusé le jeton d'accès";
  if (detail?.reason === "HTTP_ERROR" && status === 404) {
    return `il ne connaît pas le SIRET ${formatSiret(siret)} de ce lieu`;
  }
  if (detail?.reason === "HTTP_ERROR" && status) return `il a répondu par une erreur ${status}`;
  return FAILURES[detail?.reason] || "il n'a pas répondu comme prévu";
}

// -- a file sent by hand -------------------------------------------------------------------------------------------
function fileSection(venue, connection, pushed) {
  const example = "ref;available;price\n9782070360024;3;8,90\n9782253096344;0;12,90\n9782070612758;5;";
  const form = h("form", { novalidate: true, "aria-label": "Envoi d'un fichier de stock" },
    field("Fichier de stock (CSV ou JSON)", { type: "file", name: "file", required: true,
      accept: ".csv,.json,.txt,text/csv,application/json",
      hint: "Il remplace le stock des livres qu'il contient ; les autres offres ne changent pas." }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Envoyer le fichier")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const report = await submitForm(form, async () => {
      const file = form.elements.namedItem("file").files[0];
      if (!file) throw formError("Choisissez un fichier CSV ou JSON.", "file");
      if (file.size > MAX_FILE_BYTES) throw formError("Le fichier dépasse 5 Mo : découpez-le.", "file");
      const text = await file.text();
      const stocks = readStockFile(file.name, text, Boolean(connection?.pricesInCents));
      return api(`/venues/${encodeURIComponent(venue.id)}/stocks/import`, { method: "POST", body: { stocks } });
    }, "Envoi du fichier…");
    if (!report) return;
    const rejected = rejectedCount(report);
    await pushed(`Fichier importé : ${plural(report.read, "ligne lue", "lignes lues")}, ` +
      `${plural(report.created, "offre créée", "offres créées")}, ${plural(report.updated, "mise à jour",
        "mises à jour")}, ${plural(report.unchanged, "inchangée", "inchangées")}, ` +
      `${plural(rejected, "ligne rejetée", "lignes rejetées")}` +
      `${rejected ? " : leurs motifs sont dans le rapport ci-dessous" : ""}.`, report.runId);
  });
  return h("section", { "aria-labelledby": "titre-fichier" },
    h("h2", { id: "titre-fichier" }, "Envoyer un fichier"),
    h("p", {}, "Un fichier CSV, exporté de votre tableur ou de votre logiciel : une première ligne d'en-tête ",
      h("code", {}, HEADER), ", puis un livre par ligne, les colonnes séparées par un point-virgule (;) :"),
    h("ul", {},
      h("li", {}, h("code", {}, "ref"), " : l'EAN du livre (13 chiffres) ;"),
      h("li", {}, h("code", {}, "available"), " : les exemplaires disponibles en magasin (un nombre entier) ;"),
      h("li", {}, h("code", {}, "price"), " : le prix en euros (12,50 ou 12.50) ; vide, le prix du catalogue.")),
    h("pre", { class: "example", tabindex: "0", "aria-label": "Exemple de fichier CSV" }, example),
    h("p", {}, "Ou un fichier JSON au format des logiciels de stock : ",
      h("code", {}, "{\"stocks\": [{\"ref\": \"9782070360024\", \"available\": 3, \"price\": 8.9}]}"),
      connection?.pricesInCents ? " (prix en centimes, comme votre logiciel)." : " (prix en euros)."),
    h("p", {}, "10 000 lignes au plus par fichier. Les lignes mal formées sont signalées avant " +
      "l'envoi ; les livres inconnus ou non éligibles sont listés dans le rapport."),
    form);
}

/** The stocks of a CSV or JSON file, in the providers' format; a malformed file throws, naming the line. */
export function readStockFile(fileName, text, pricesInCents = false) {
  const content = text.replace(/^\uFEFF/, "");
  const looksJson = /\.json$/i.test(fileName) || /^\s*[[{]/.test(content);
  const stocks = looksJson ? readJson(content) : readCsv(content, pricesInCents);
  if (!stocks.length) throw formError("Le fichier ne contient aucune ligne de stock.", "file");
  if (stocks.length > MAX_LINES) {
    throw formError(`Le fichier a ${stocks.length} lignes : 10 000 au plus par envoi, découpez-le.`, "file");
  }
  return stocks;
}

function readJson(content) {
  let parsed;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw formError("Le fichier JSON n'est pas lisible : vérifiez sa syntaxe (guillemets, virgules, crochets et " +
      "accolades).", "file");
  }
  const stocks = Array.isArray(parsed) ? parsed : parsed?.stocks;
  if (!Array.isArray(stocks)) {
    throw formError("Le fichier JSON doit contenir une liste «\u00a0stocks\u00a0» : {\"stocks\": [{\"ref\": …, " +
      "\"available\": …, \"price\": …}]}.", "file");
  }
  stocks.forEach((stock, index) => {
    if (stock === null || typeof stock !== "object" || Array.isArray(stock)) {
      throw formError(`Élément ${index + 1} de «\u00a0stocks\u00a0» : un objet {"ref", "available", "price"} ` +
        "est attendu.",
        "file");
    }
  });
  return stocks;
}

const unquote = (cell) => cell.trim().replace(/^"(.*)"$/, "$1").trim();

function readCsv(content, pricesInCents) {
  const lines = content.split(/\r\n|\n|\r/);
  const header = lines[0].split(";").map((cell) => unquote(cell).toLowerCase()).join(";");
  if (header !== HEADER) {
    const why = !lines[0].includes(";") && lines[0].includes(",")
      ? " : les colonnes sont séparées par un point-virgule (;), pas une virgule"
      : "";
    const read = lines[0].slice(0, 60);
    throw formError(`Ligne 1 : l'en-tête doit être «\u00a0${HEADER}\u00a0» (lu : «\u00a0${read}\u00a0»)${why}.`,
      "file");
  }
  const stocks = [];
  lines.slice(1).forEach((line, index) => {
    const number = index + 2;
    if (!line.trim()) return;
    const cells = line.split(";").map(unquote);
    if (cells.length !== 3) {
      throw formError(`Ligne ${number} : 3 colonnes séparées par «\u00a0;\u00a0» sont attendues ` +
        "(ref;available;price), " +
        `${cells.length} trouvée${cells.length > 1 ? "s" : ""}.`, "file");
    }
    const [ref, available, price] = cells;
    if (!/^-?\d+$/.test(available)) {
      throw formError(`Ligne ${number} : la quantité disponible «\u00a0${available}\u00a0» n'est pas un ` +
        "nombre entier.", "file");
    }
    const stock = { ref, available: Number(available) };
    if (price) {
      const normalised = price.replace(/\s/g, "").replace("€", "").replace(",", ".");
      if (!/^\d+(\.\d{1,2})?$/.test(normalised)) {
        throw formError(`Ligne ${number} : le prix «\u00a0${price}\u00a0» n'est pas un montant en euros ` +
          "(par exemple 12,50).",
          "file");
      }
      stock.price = pricesInCents ? Math.round(Number(normalised) * 100) : Number(normalised);
    }
    stocks.push(stock);
  });
  return stocks;
}

// -- the reports ---------------------------------------------------------------------------------------------------
function reportsSection(venue, answer, refresh, openRunId = null) {
  const list = h("div", {});
  let cursor = answer.nextCursor;
  const more = h("button", { type: "button", class: "button-secondary" }, "Afficher les rapports plus anciens");
  const again = h("button", { type: "button", class: "button-secondary" }, "Actualiser");
  again.addEventListener("click", () => refresh());
  more.addEventListener("click", async () => {
    try {
      const next = await withProgress(() => api(`/venues/${encodeURIComponent(venue.id)}/stock-imports`,
        { query: { limit: REPORTS_PAGE, cursor } }), more, "Chargement…");
      list.append(...next.items.map((report) => reportCard(report, "h3")));
      cursor = next.nextCursor;
      more.hidden = !cursor;
    } catch (error) {
      showMessage(list, error.message);
    }
  });
  more.hidden = !cursor;
  if (answer.items.length) {
    list.append(...answer.items.map((report) => reportCard(report, "h3", report.runId === openRunId)));
  }
  else list.append(h("p", { class: "message message-info" }, "Aucun import pour ce lieu pour l'instant."));
  const running = answer.items.some((report) => report.status === "RUNNING");
  return h("section", { "aria-labelledby": "titre-rapports" },
    h("h2", { id: "titre-rapports" }, "Rapports d'import"),
    running ? h("p", { class: "message message-info" }, "Un import est en cours : actualisez dans quelques " +
      "instants pour voir son rapport.") : null,
    h("div", { class: "actions" }, again),
    list,
    h("div", { class: "pager" }, more));
}

function reportCard(report, headingTag, open = false) {
  const [statusText, statusClass] = STATUS[report.status] || [report.status, "badge"];
  const rejected = rejectedCount(report);
  const origin = report.provider === "push" ? "Fichier ou envoi direct"
    : `Import de ${ORIGINS[report.provider] || report.provider}`;
  const title = `${origin} — ${formatDateTime(report.startedAt)}`;
  const counts = [
    ["Lignes lues", report.read],
    ["Offres créées", report.created],
    ["Mises à jour", report.updated],
    ["Inchangées", report.unchanged],
    ["Sans exemplaire, non créées", report.skipped],
    ["Rejetées", rejected],
  ];
  const reasons = Object.entries(report.rejected || {});
  const lines = report.rejectedLines || [];
  return h("article", { class: "card report" },
    h(headingTag, {}, title),
    h("p", {}, h("span", { class: statusClass }, statusText)),
    report.failure ? h("p", { class: "message message-error" }, `L'import a échoué : ${FAILURES[report.failure] ||
      "erreur inattendue"}.`) : null,
    h("dl", { class: "counts" }, counts.map(([label, value]) => h("div", {},
      h("dt", {}, label), h("dd", {}, String(value ?? 0))))),
    reasons.length ? h("ul", {}, reasons.map(([reason, count]) =>
      h("li", {}, `${REJECTIONS[reason] || reason} : ${plural(count, "ligne", "lignes")}`))) : null,
    lines.length ? h("details", { open },
      h("summary", {},
        `Voir les lignes rejetées${lines.length < rejected ? ` (les ${lines.length} premières)` : ""}`),
      h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Lignes rejetées — ${title}` },
        h("table", {},
          h("caption", {}, `Lignes rejetées — ${title}`),
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, "Référence (EAN)"), h("th", { scope: "col" }, "Motif"))),
          h("tbody", {}, lines.map((line) => h("tr", {},
            h("td", {}, line.ref ?? "(vide)"),
            h("td", {}, REJECTIONS[line.reason] || line.reason))))))) : null);
}
