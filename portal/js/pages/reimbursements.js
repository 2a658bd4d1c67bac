// "Remboursements": the offerer's bank details (entered or replaced here: PUT /offerers/{id}/bank-account, then
// checked by the pass Culture team) and its payouts every 15 days (GET /pro/reimbursements), each with its statement
// (PDF) and its detail (CSV) — links the API gives ready to follow (presigned for an hour in AWS, hence asked again
// when the page has been open longer) — and, on demand, the bookings a payout paid and how each was priced.
import { api } from "../api.js";
import { currentOfferer, loadOfferers, noOffererYet, offererPicker } from "../context.js";
import { registerMessages } from "../messages.js";
import { field, formatCents, formatDate, formatDateTime, h, page, showMessage, submitForm, table, withProgress }
  from "../ui.js";

const LINKS_FRESH_MS = 50 * 60 * 1000; // the API's links work for an hour
const IBAN_ERROR = "Cet IBAN n'est pas valide : vérifiez-le (en France, 27 caractères commençant par FR76).";
const BIC_ERROR = "Ce BIC n'est pas valide : il compte 8 ou 11 caractères, par exemple AGRIFRPPXXX.";

registerMessages({
  INVALID_IBAN: IBAN_ERROR,
  INVALID_BIC: BIC_ERROR,
  PAYOUT_NOT_FOUND: "Ce remboursement n'existe pas ou plus.",
});

const ACCOUNT_STATUS = {
  PENDING: ["En attente de validation", "badge"],
  ACCEPTED: ["Validées", "badge badge-ok"],
};
const PAYOUT_STATUS = { PAID: "Virement envoyé", NOTHING_TO_PAY: "Rien à payer" };
const RULES = { BOOK: "Livre", STANDARD: "Standard", NOT_REIMBURSED: "Non remboursé", COLLECTIVE: "Offre collective" };

const percent = new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 2 });
const rateText = (basisPoints) => percent.format(basisPoints / 10_000);

function accountFacts(account) {
  const [label, badge] = ACCOUNT_STATUS[account.status] || [account.status, "badge"];
  return h("dl", { class: "facts" },
    h("dt", {}, "Statut"), h("dd", {}, h("span", { class: badge }, label)),
    h("dt", {}, "Libellé"), h("dd", {}, account.label),
    h("dt", {}, "IBAN"), h("dd", { class: "countermark" }, account.iban),
    account.bic ? [h("dt", {}, "BIC"), h("dd", { class: "countermark" }, account.bic)] : null);
}

function bankSection(offerer) {
  // The account as known: GET /offerers' `bankAccount` (as PUT answers it: status, masked IBAN, BIC, label) when the
  // API gives it; else only what the pro has just saved on this page (a later visit could not tell it is still true:
  // the pass Culture team may have accepted it since).
  let saved = null;
  const knownAccount = () => ("bankAccount" in offerer ? offerer.bankAccount || null : saved);
  const shown = h("div");
  function showAccount() {
    const account = knownAccount();
    shown.replaceChildren(account
      ? accountFacts(account)
      : h("p", { class: "message message-info" },
        "Renseignez le compte sur lequel le pass Culture vous rembourse. Des coordonnées déjà enregistrées ne "
        + "s'affichent pas ici : en saisir de nouvelles les remplace."));
  }
  showAccount();

  const form = h("form", { novalidate: true, "aria-labelledby": "rib-titre" },
    h("h3", { id: "rib-titre" }, knownAccount() ? "Remplacer les coordonnées bancaires"
      : "Saisir les coordonnées bancaires"),
    field("IBAN", {
      name: "iban", required: true, autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
      maxlength: "50", hint: "Par exemple FR76 3000 6000 0112 3456 7890 189 (les espaces sont acceptés).",
    }),
    field("BIC", {
      name: "bic", required: true, autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
      maxlength: "20", hint: "8 ou 11 caractères, par exemple AGRIFRPPXXX.",
    }),
    field("Libellé du compte", {
      name: "label", required: true, maxlength: "200", hint: "Un nom pour reconnaître ce compte, par exemple « Compte librairie ».",
    }),
    h("p", { class: "hint" }, "Les nouvelles coordonnées sont vérifiées par l'équipe pass Culture avant le prochain "
      + "remboursement."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Enregistrer les coordonnées bancaires")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const account = await submitForm(form, async (values) => {
      try {
        return await api(`/offerers/${offerer.id}/bank-account`, { method: "PUT", body: values });
      } catch (error) { // the IBAN's and BIC's problems beside their fields, in French
        if (error.code === "INVALID_IBAN") error.fields = [{ field: "iban", message: IBAN_ERROR }];
        if (error.code === "INVALID_BIC") error.fields = [{ field: "bic", message: BIC_ERROR }];
        throw error;
      }
    }, "Enregistrement…");
    if (!account) return;
    saved = account;
    if ("bankAccount" in offerer) offerer.bankAccount = account; // the loaded offerer, until the next load
    form.reset();
    showAccount();
    form.querySelector("h3").textContent = "Remplacer les coordonnées bancaires";
    showMessage(form, "Coordonnées bancaires enregistrées : elles sont en attente de validation par l'équipe "
      + "pass Culture.", "ok").focus();
  });

  return h("section", { "aria-labelledby": "banque-titre" },
    h("h2", { id: "banque-titre" }, "Coordonnées bancaires"), shown, form);
}

function periodText(payout) {
  return payout.period.label || `du ${formatDate(payout.period.start)} au ${formatDate(payout.period.end)}`;
}

/** A document link (a download named after the period), its text saying which payout it is for. An hour after the
 * list was loaded the API's link may have expired: a click then asks for a fresh one first. */
function documentLink(text, kind, payout, refresh) {
  const name = `${kind === "pdf" ? "releve" : "detail"}-remboursement-${payout.period.start}.${kind}`;
  const urlOf = (p) => new URL(kind === "pdf" ? p.statementUrl : p.csvUrl, window.location.href).href;
  const link = h("a", { href: urlOf(payout), download: name },
    text, h("span", { class: "visually-hidden" }, ` — ${periodText(payout)}`));
  link.addEventListener("click", async (event) => {
    if (!refresh.stale()) return;
    event.preventDefault();
    const fresh = await refresh.payout(payout.id);
    if (!fresh) return;
    link.href = urlOf(fresh);
    const once = h("a", { href: link.href, download: name, hidden: true });
    document.body.append(once);
    once.click();
    once.remove();
  });
  return link;
}

function payoutsSection(offerer) {
  const summary = h("p", { role: "status", class: "muted" });
  const listing = h("div");
  const more = h("div", { class: "pager" });
  const detail = h("div", { id: "detail-remboursement" });
  let payouts = [];
  let cursor = null;
  let loadedAt = 0;

  const refresh = {
    stale: () => Date.now() - loadedAt > LINKS_FRESH_MS,
    async payout(id) {
      try {
        const answer = await withProgress(() => api(`/pro/reimbursements/${id}/bookings`));
        loadedAt = Date.now();
        return answer.payout;
      } catch (error) {
        showMessage(listing, error.message);
        return null;
      }
    },
  };

  const columns = [
    ["Période", (p) => h("span", { class: "nowrap" }, periodText(p))],
    ["Montant remboursé", (p) => h("strong", {}, formatCents(p.reimbursedCents))],
    ["Réservations", (p) => [String(p.bookingsCount), h("div", { class: "muted" }, `pour ${formatCents(p.amountCents)}`)]],
    ["Virement", (p) => [PAYOUT_STATUS[p.status] || p.status,
      p.paidAt ? h("div", { class: "muted" }, `le ${formatDateTime(p.paidAt)}`) : null]],
    ["Compte", (p) => [p.bankAccount?.label || "—", h("div", { class: "muted countermark" }, p.bankAccount?.iban || "")]],
    ["Documents", (p) => h("ul", { class: "plain-list" },
      h("li", {}, documentLink("Relevé (PDF)", "pdf", p, refresh)),
      h("li", {}, documentLink("Détail (CSV)", "csv", p, refresh)))],
    ["Détail", (p) => {
      // aria-label: the visible words first, then which payout (a hidden span would not survive withProgress)
      const button = h("button", { type: "button", class: "button-secondary", "aria-controls": "detail-remboursement",
        "aria-label": `Voir les réservations — ${periodText(p)}` }, "Voir les réservations");
      button.addEventListener("click", () => showBookings(p, button));
      return button;
    }],
  ];

  function render() {
    summary.textContent = payouts.length
      ? `${payouts.length} remboursement${payouts.length > 1 ? "s" : ""} affiché${payouts.length > 1 ? "s" : ""}.` : "";
    listing.replaceChildren(table(`Remboursements de ${offerer.name}`, columns, payouts,
      "Aucun remboursement pour le moment : les réservations validées sont remboursées tous les 15 jours."));
    more.replaceChildren();
    if (cursor) {
      const button = h("button", { type: "button", class: "button-secondary" }, "Remboursements plus anciens");
      button.addEventListener("click", () => load(button));
      more.append(button);
    }
  }

  async function load(button) {
    try {
      await withProgress(async () => {
        // a page may come back empty with a cursor (nothing behind it, or more further): read on, a few pages at most
        for (let tries = 0, found = 0; tries < 5 && found === 0; tries += 1) {
          const answer = await api("/pro/reimbursements", { query: { offererId: offerer.id, cursor: cursor || undefined } });
          found = (answer.items || []).length;
          payouts = payouts.concat(answer.items || []);
          cursor = answer.nextCursor || null;
          if (!cursor) break;
        }
      }, button, "Chargement…");
      loadedAt = Date.now();
      render();
    } catch (error) {
      showMessage(listing, error.message || "Les remboursements n'ont pas pu être chargés.");
    }
  }

  async function showBookings(payout, button) {
    const lines = [];
    const columns2 = [
      ["Contremarque ou établissement", (l) => (l.kind === "collective"
        ? [l.institutionName, h("div", { class: "muted" }, `UAI ${l.uai}`)]
        : h("span", { class: "countermark" }, l.token))],
      ["Offre", (l) => [l.offerName, h("div", { class: "muted" }, l.venueName)]],
      ["Validée le", (l) => formatDateTime(l.usedAt)],
      ["Prix", (l) => formatCents(l.amountCents)],
      ["Barème", (l) => RULES[l.rule] || l.rule],
      ["Taux", (l) => rateText(l.rate)],
      ["Remboursé", (l) => formatCents(l.reimbursedCents)],
    ];
    const heading = h("h3", { tabindex: "-1", id: "detail-titre" }, `Réservations remboursées — ${periodText(payout)}`);
    const body = h("div");
    const pager = h("div", { class: "pager" });
    const read = (cursor) => api(`/pro/reimbursements/${payout.id}/bookings`, { query: { cursor: cursor || undefined } });
    let ahead = null; // the next page, read before "Plus de réservations" is offered

    /** The first page with lines from `cursor` on (the API may give a cursor with nothing behind it), or null. */
    async function nextLines(cursor) {
      for (let next = cursor, tries = 0; next && tries < 5; tries += 1) {
        const answer = await read(next);
        if (answer.items?.length) return answer;
        next = answer.nextCursor;
      }
      return null;
    }

    async function fetchPage(pageButton) {
      try {
        await withProgress(async () => {
          const answer = ahead || await read(null);
          lines.push(...(answer.items || []));
          ahead = await nextLines(answer.nextCursor);
        }, pageButton, "Chargement…");
        body.replaceChildren(table(`Réservations du remboursement ${periodText(payout)}`, columns2, lines,
          "Aucune réservation dans ce remboursement."));
        pager.replaceChildren();
        if (ahead) {
          const moreButton = h("button", { type: "button", class: "button-secondary" }, "Plus de réservations");
          moreButton.addEventListener("click", () => fetchPage(moreButton));
          pager.append(moreButton);
        }
      } catch (error) {
        body.replaceChildren();
        showMessage(body, error.message || "Les réservations n'ont pas pu être chargées.");
      }
    }

    detail.replaceChildren(h("section", { class: "card", "aria-labelledby": "detail-titre" }, heading, body, pager));
    await fetchPage(button);
    heading.focus();
  }

  const section = h("section", { "aria-labelledby": "virements-titre" },
    h("h2", { id: "virements-titre" }, "Historique des remboursements"),
    h("p", {}, "Les réservations validées sont remboursées tous les 15 jours, pour les périodes du 1er au 15 et du 16 "
      + "à la fin du mois. Chaque remboursement a son relevé (PDF) et le détail de ses réservations (CSV)."),
    summary, listing, more, detail);
  return { section, load };
}

export default async function reimbursements(view) {
  await loadOfferers(true); // the account's status may have changed since (accepted by the pass Culture team)
  const offerer = await currentOfferer();
  if (!offerer) {
    page(view, "Remboursements", noOffererYet());
    return;
  }
  const picker = await offererPicker(() => reimbursements(view));
  const payouts = payoutsSection(offerer);
  page(view, "Remboursements", ...(picker ? [picker] : []), bankSection(offerer), payouts.section);
  await payouts.load();
}
