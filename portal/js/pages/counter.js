// The counter ("guichet"), often used on a phone: the pro types the countermark the young person shows (or scans its
// QR code with the camera), sees the booking, validates it, and can undo a validation made by mistake.
//
// The countermark API (`/v2/bookings/...`) is the public pass Culture API: the pro's Cognito token is accepted as
// `Bearer` there, as on every other route. A countermark is 6 symbols of `A–Z 2–7` without I and O, looked up
// whatever the case. The young person's QR code carries `PASSCULTURE:v3;TOKEN:<countermark>` (domain.md; the real
// app may put other `KEY:value` fields beside TOKEN, e.g. `EAN13:`): the field and the scanner take that payload —
// what a hand-held QR scanner "types" into the field — as well as the bare countermark.
import { api } from "../api.js";
import { registerMessages } from "../messages.js";
import { clearErrors, field, formatCents, formatDateTime, h, page, setFieldError, withProgress } from "../ui.js";

const ALPHABET = /^[A-HJ-NP-Z2-7]{6}$/; // ids.py COUNTERMARK_ALPHABET, 6 symbols
const SCAN_EVERY_MS = 250;

registerMessages({
  TOKEN_NOT_FOUND: "Contremarque inconnue : vérifiez les 6 caractères saisis.",
  TOKEN_NOT_YOURS: "Cette contremarque concerne une offre d'une autre structure : vous ne pouvez pas la valider.",
  BOOKING_USED: "Cette contremarque a déjà été validée.",
  BOOKING_CANCELLED: "Cette réservation a été annulée : la contremarque ne peut plus être validée.",
  BOOKING_REIMBURSED: "Cette réservation a déjà été remboursée : sa validation ne peut plus être annulée.",
  BOOKING_PRICED: "Le remboursement de cette réservation est en cours : sa validation ne peut plus être annulée.",
  BOOKING_NOT_USED: "Cette réservation n'est pas validée : il n'y a pas de validation à annuler.",
  BOOKING_CHANGED: "Cette réservation vient de changer (validée ou annulée ailleurs) : recherchez-la à nouveau.",
  BOOKING_TOO_EARLY: "Cette contremarque ne peut pas encore être validée : le délai d'annulation n'est pas passé.",
});

/** The countermark in a typed text or a QR payload, upper-case; null when there is none. */
export function parseCountermark(text) {
  const raw = String(text || "").trim();
  const fromPayload = raw.match(/(?:^|[;\s])TOKEN\s*:\s*([A-Za-z0-9]+)/i);
  const candidate = (fromPayload ? fromPayload[1] : raw).replace(/[\s-]/g, "").toUpperCase();
  return ALPHABET.test(candidate) ? candidate : null;
}

/** The French sentence for a refusal of the countermark API, by what was asked (look up, validate, undo). */
function refusal(error, action) {
  if (error.status === 429) {
    const seconds = error.retryAfter || Number((error.apiMessage || "").match(/(\d+)\s*seconde/)?.[1]) || 60;
    return `Trop de contremarques inconnues en peu de temps : patientez ${seconds} secondes avant de réessayer.`;
  }
  if (error.code === "BOOKING_TOO_EARLY") {
    const from = error.details.find((detail) => detail && detail.validableFrom)?.validableFrom;
    return from
      ? `Cette contremarque pourra être validée à partir du ${formatDateTime(from)}, une fois le délai d'annulation passé.`
      : error.message;
  }
  if (error.code === "BOOKING_USED" && action === "use" && error.status === 410) {
    return "Cette contremarque vient d'être validée, peut-être à un autre guichet.";
  }
  if (error.code === "BOOKING_REIMBURSED" && action === "look up") {
    return "Cette réservation a déjà été remboursée : elle ne peut plus être validée ni sa validation annulée.";
  }
  if (error.code === "BOOKING_CANCELLED" && action === "keep") {
    return "Cette réservation a été annulée : il n'y a pas de validation à annuler.";
  }
  return error.message;
}

const STATUS = {
  CONFIRMED: ["Réservée — à valider", "badge"],
  USED: ["Validée", "badge badge-ok"],
  REIMBURSED: ["Remboursée", "badge badge-ok"],
  CANCELLED: ["Annulée", "badge badge-error"],
};

function quantityText(quantity) {
  return quantity === 2 ? "2 places (duo)" : `${quantity} place${quantity > 1 ? "s" : ""}`;
}

function priceText(booking) {
  const cents = Number.isInteger(booking.priceCents) ? booking.priceCents : Math.round(booking.price * 100);
  if (cents === 0) return "Gratuit";
  return booking.quantity > 1 ? `${formatCents(cents)} la place, ${formatCents(cents * booking.quantity)} en tout`
    : formatCents(cents);
}

/** The booking as the counter shows it: what the pro checks before handing the book or letting the person in. */
function bookingCard(booking, token, status, actions, message) {
  const [label, badge] = STATUS[status] || [status, "badge"];
  return h("section", { class: "card counter-booking", "aria-labelledby": "reservation-titre" },
    h("h2", { id: "reservation-titre" }, "Contremarque ", h("span", { class: "countermark" }, token)),
    message,
    h("dl", { class: "facts" },
      h("dt", {}, "Statut"), h("dd", {}, h("span", { class: badge }, label)),
      h("dt", {}, "Offre"), h("dd", {}, booking.offerName),
      h("dt", {}, "Bénéficiaire"), h("dd", {}, booking.userName),
      h("dt", {}, "Quantité"), h("dd", {}, quantityText(booking.quantity)),
      h("dt", {}, "Prix"), h("dd", {}, priceText(booking)),
      booking.datetime ? [h("dt", {}, "Date de l'évènement"), h("dd", {}, formatDateTime(booking.datetime))] : null,
      booking.ean13 ? [h("dt", {}, "EAN"), h("dd", {}, booking.ean13)] : null,
      h("dt", {}, "Lieu"), h("dd", {}, booking.venueName)),
    h("div", { class: "actions" }, actions));
}

function refusalCard(text, token, actions = []) {
  return h("section", { class: "card counter-refusal", "aria-labelledby": "refus-titre" },
    h("h2", { id: "refus-titre" }, "Contremarque ", h("span", { class: "countermark" }, token)),
    h("p", { class: "message message-error", role: "alert" }, text),
    actions.length ? h("div", { class: "actions" }, actions) : null);
}

function okMessage(text) {
  return h("p", { class: "message message-ok", role: "status", tabindex: "-1" }, text);
}

/** Whether this browser can read a QR code from the camera (not every one has BarcodeDetector). */
async function canScan() {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return false;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    return formats.includes("qr_code");
  } catch {
    return false;
  }
}

export default async function counter(view) {
  const result = h("div", { id: "resultat-guichet" });
  const form = h("form", { class: "counter-form", novalidate: true },
    field("Contremarque", {
      name: "token", required: true, autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
      maxlength: "120", class: "countermark-input", enterkeyhint: "search",
      hint: "Les 6 caractères que présente le jeune, par exemple AB3CD5 (majuscules ou minuscules).",
    }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Rechercher la contremarque")));
  const input = form.elements.namedItem("token");
  const scanner = h("div", { class: "scanner", hidden: true });

  /** The new result, focused where a screen reader should start reading it (the message, else the heading). */
  function show(content) {
    result.replaceChildren(content);
    const start = content.querySelector("[role=alert], [role=status]") || content.querySelector("h2");
    start.setAttribute("tabindex", "-1");
    start.focus();
  }

  function showBooking(booking, token, status, message) {
    const actions = [];
    if (status === "CONFIRMED") {
      const validate = h("button", { type: "button" }, "Valider la contremarque");
      validate.addEventListener("click", () => validateBooking(booking, token, validate));
      actions.push(validate);
    } else if (status === "USED") {
      const undo = h("button", { type: "button", class: "button-secondary" }, "Annuler la validation");
      undo.addEventListener("click", () => undoValidation(booking, token, undo));
      actions.push(undo);
    }
    actions.push(newSearchButton());
    show(bookingCard(booking, token, status, actions, message));
  }

  function newSearchButton() {
    const again = h("button", { type: "button", class: "button-secondary" }, "Nouvelle contremarque");
    again.addEventListener("click", () => {
      result.replaceChildren();
      input.value = "";
      input.focus();
    });
    return again;
  }

  async function validateBooking(booking, token, button) {
    try {
      await withProgress(() => api(`/v2/bookings/use/token/${token}`, { method: "PATCH" }), button, "Validation…");
      showBooking(booking, token, "USED",
        okMessage("Contremarque validée : vous pouvez remettre le bien ou laisser entrer le jeune."));
    } catch (error) {
      show(refusalCard(refusal(error, "use"), token, [newSearchButton()]));
    }
  }

  async function undoValidation(booking, token, button) {
    try {
      await withProgress(() => api(`/v2/bookings/keep/token/${token}`, { method: "PATCH" }), button, "Annulation…");
      if (booking) {
        showBooking(booking, token, "CONFIRMED",
          okMessage("Validation annulée : la contremarque est de nouveau à valider."));
      } else {
        await lookUp(token, okMessage("Validation annulée : la contremarque est de nouveau à valider."));
      }
    } catch (error) {
      show(refusalCard(refusal(error, "keep"), token, [newSearchButton()]));
    }
  }

  async function lookUp(token, message, button) {
    try {
      const booking = await withProgress(() => api(`/v2/bookings/token/${token}`), button, "Recherche…");
      showBooking(booking, token, booking.status === "USED" ? "USED" : "CONFIRMED", message);
    } catch (error) {
      const actions = [];
      if (error.code === "BOOKING_USED" && error.status === 410) {
        // validated earlier (maybe by mistake): the pro may undo it from here
        const undo = h("button", { type: "button", class: "button-secondary" }, "Annuler la validation");
        undo.addEventListener("click", () => undoValidation(null, token, undo));
        actions.push(undo);
      }
      actions.push(newSearchButton());
      show(refusalCard(refusal(error, "look up"), token, actions));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const token = parseCountermark(input.value);
    if (!token) {
      setFieldError(form, "token", input.value.trim()
        ? "Une contremarque compte 6 caractères : des lettres (sans I ni O) et des chiffres de 2 à 7."
        : "Saisissez la contremarque.");
      input.focus();
      return;
    }
    input.value = token;
    await lookUp(token, null, form.querySelector("button[type=submit]"));
  });

  const intro = h("p", {}, "Saisissez la contremarque que présente le jeune, ou scannez le QR code de sa réservation.");
  page(view, "Guichet", intro, form, scanner, result);

  if (await canScan()) {
    const scan = h("button", { type: "button", class: "button-secondary", "aria-controls": "scanner-qr" },
      "Scanner le QR code");
    scanner.id = "scanner-qr";
    form.querySelector(".actions").append(scan);
    scan.addEventListener("click", () => startScanner(scanner, scan, (token) => {
      input.value = token;
      lookUp(token, null);
    }));
  }
}

/** The camera's stream in a video, read by BarcodeDetector until a countermark shows; stopped when found, on
 * "Arrêter", or when the pro leaves the page. */
async function startScanner(scanner, scanButton, onToken) {
  const status = h("p", { role: "status", class: "hint" }, "Ouverture de la caméra…");
  const video = h("video", { playsinline: true, muted: true, "aria-label": "Image de la caméra" });
  const stopButton = h("button", { type: "button", class: "button-secondary" }, "Arrêter le scanner");
  scanner.replaceChildren(h("h2", {}, "Scanner le QR code"), status, video, h("div", { class: "actions" }, stopButton));
  scanner.hidden = false;
  scanButton.disabled = true;
  let stream = null;
  let stopped = false;
  let timer = null;

  function stop(message) {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener("hashchange", onLeave);
    for (const track of stream?.getTracks() || []) track.stop();
    video.srcObject = null;
    scanButton.disabled = false;
    if (message) {
      scanner.replaceChildren(h("p", { class: "message message-error", role: "alert" }, message));
    } else {
      scanner.replaceChildren();
      scanner.hidden = true;
    }
  }
  function onLeave() { stop(); }
  window.addEventListener("hashchange", onLeave);
  stopButton.addEventListener("click", () => { stop(); scanButton.focus(); });

  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
    stop(denied
      ? "L'accès à la caméra a été refusé : autorisez-le dans votre navigateur, ou saisissez la contremarque."
      : "Aucune caméra n'est disponible : saisissez la contremarque.");
    return;
  }
  if (stopped) { for (const track of stream.getTracks()) track.stop(); return; }
  video.muted = true;
  video.srcObject = stream;
  try { await video.play(); } catch { /* muted inline video: plays without a gesture; frames come anyway */ }
  status.textContent = "Placez le QR code de la réservation devant la caméra.";
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  let warned = false;

  async function look() {
    if (stopped) return;
    try {
      const codes = video.readyState >= 2 ? await detector.detect(video) : [];
      for (const code of codes) {
        const token = parseCountermark(code.rawValue);
        if (token) {
          stop();
          onToken(token);
          return;
        }
        if (!warned) {
          warned = true;
          status.textContent = "Ce QR code n'est pas celui d'une réservation pass Culture.";
        }
      }
    } catch { /* a frame that cannot be read: the next one may */ }
    if (!stopped) timer = setTimeout(look, SCAN_EVERY_MS);
  }
  look();
}
