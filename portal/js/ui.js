// Small DOM helpers: elements are built with h() (text is always text, never HTML: nothing a user typed can run),
// forms show their errors beside the field and in one summary, slow actions show progress.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let fieldCount = 0;

/** A labelled input (or select/textarea with `as`), its hint and its error slot, tied by aria-describedby. */
export function field(label, { as = "input", hint, options, ...attributes } = {}) {
  const id = attributes.id || `champ-${++fieldCount}`;
  const hintId = hint ? `${id}-aide` : null;
  const errorId = `${id}-erreur`;
  const control = h(as, { ...attributes, id, "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") });
  if (as === "select" && options) {
    for (const option of options) {
      const [value, text] = Array.isArray(option) ? option : [option, option];
      control.append(h("option", { value }, text));
    }
    if (attributes.value !== undefined) control.value = attributes.value;
  }
  return h("div", { class: "field" },
    h("label", { for: id }, label, attributes.required ? " (obligatoire)" : ""),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "field-error", id: errorId, hidden: true }));
}

/** Shows `message` under the named field of `form` and marks it invalid; focus goes to the first such field. */
export function setFieldError(form, name, message) {
  const control = form.elements.namedItem(name);
  if (!control || !control.id) return false;
  const slot = document.getElementById(`${control.id}-erreur`);
  control.setAttribute("aria-invalid", "true");
  if (slot) { slot.textContent = message; slot.hidden = false; }
  return true;
}

export function clearErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error")) { slot.textContent = ""; slot.hidden = true; }
  form.querySelector(".form-message")?.remove();
}

/** A message at the top of `container` (role=alert for errors: read at once), focused when it is an error. */
export function showMessage(container, text, kind = "error") {
  container.querySelector(":scope > .form-message")?.remove();
  const box = h("div", { class: `message message-${kind} form-message`, role: kind === "error" ? "alert" : "status",
    tabindex: "-1" }, text);
  container.prepend(box);
  if (kind === "error") box.focus();
  return box;
}

let busyCount = 0;

/** Runs `work` with the page's progress bar and, when given, the button disabled and saying it is busy. */
export async function withProgress(work, button, busyLabel = "Patientez…") {
  const bar = document.getElementById("progress");
  busyCount += 1;
  bar?.classList.add("busy");
  if (bar) bar.replaceChildren(h("span", { class: "label" }, busyLabel));
  const label = button?.textContent;
  if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); button.textContent = busyLabel; }
  try {
    return await work();
  } finally {
    busyCount -= 1;
    if (busyCount === 0) { bar?.classList.remove("busy"); bar?.replaceChildren(); }
    if (button) { button.disabled = false; button.removeAttribute("aria-busy"); button.textContent = label; }
  }
}

/** An error of the form itself (checked before calling the API), shown as submitForm shows the API's. */
export function formError(problems) {
  const error = new Error(problems.length > 1
    ? "Certains champs sont à corriger : voyez le message sous chacun."
    : problems[0].message);
  error.fields = problems;
  return error;
}

/**
 * Submits `form` through `action(values)`: progress while it runs, the API's field errors beside their fields and
 * its message on top. Answers what `action` answered, or null after an error (already shown).
 */
export async function submitForm(form, action, busyLabel) {
  clearErrors(form);
  const values = Object.fromEntries(new FormData(form).entries());
  const button = form.querySelector("button[type=submit]");
  try {
    return await withProgress(() => action(values), button, busyLabel);
  } catch (error) {
    let placed = false;
    for (const detail of error.fields || []) placed = setFieldError(form, detail.field, detail.message) || placed;
    showMessage(form, error.message || "Une erreur est survenue.");
    if (placed) form.querySelector("[aria-invalid=true]")?.focus();
    return null;
  }
}

const euros = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
export const formatCents = (cents) => (cents === null || cents === undefined ? "—" : euros.format(cents / 100));

/** "12,50" or "12.5" → 1250; NaN when it is not an amount. */
export function parseEuros(text) {
  const normalised = String(text).trim().replace(/\s/g, "").replace("€", "").replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(normalised)) return Number.NaN;
  return Math.round(Number(normalised) * 100);
}

const dateTime = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Paris" });
const dateOnly = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium", timeZone: "Europe/Paris" });
export const formatDateTime = (iso) => (iso ? dateTime.format(new Date(iso)) : "—");
export const formatDate = (iso) => (iso ? dateOnly.format(new Date(iso)) : "—");

/** A `datetime-local` value (Paris wall time as the browser shows it) → an ISO instant with the browser's offset. */
export function localInputToIso(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A table with a caption; `columns` are [header, (row) => cell content]. */
export function table(caption, columns, rows, empty = "Aucun élément.") {
  if (!rows.length) return h("p", { class: "message message-info" }, empty);
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map(([header]) => h("th", { scope: "col" }, header)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row))))))));
}

/** The page's heading and title; focus moves to the main landmark so a screen reader starts there. */
export function page(view, title, ...children) {
  document.title = `${title} — pass Culture pro`;
  view.replaceChildren(h("h1", {}, title), ...children);
}
