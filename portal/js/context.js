// What every pro page needs: the pro's offerers with their venues (GET /offerers), and the one they work on.
import { api } from "./api.js";
import { field, h } from "./ui.js";

const CURRENT = "passculture-pro-offerer";
let offerers = null;

/** The pro's offerers with their venues, loaded once (`force` after a change). */
export async function loadOfferers(force = false) {
  if (force || offerers === null) offerers = (await api("/offerers")).items;
  return offerers;
}

export function forgetOfferers() { offerers = null; }

/** The offerer the pro works on: the one chosen last, else the first. */
export async function currentOfferer() {
  const all = await loadOfferers();
  const chosen = sessionStorage.getItem(CURRENT);
  return all.find((offerer) => offerer.id === chosen) || all[0] || null;
}

export function chooseOfferer(offererId) { sessionStorage.setItem(CURRENT, offererId); }

/** All venues of all the pro's offerers, each with its offerer's id and name. */
export async function allVenues() {
  return (await loadOfferers()).flatMap((offerer) =>
    (offerer.venues || []).map((venue) => ({ ...venue, offererId: offerer.id, offererName: offerer.name })));
}

/**
 * A "Structure" select when the pro has several offerers (nothing when one); calls `onChange(offerer)`.
 */
export async function offererPicker(onChange) {
  const all = await loadOfferers();
  if (all.length < 2) return null;
  const current = await currentOfferer();
  const wrapper = field("Structure", {
    as: "select", name: "offererId", options: all.map((offerer) => [offerer.id, offerer.name]), value: current.id,
  });
  wrapper.querySelector("select").addEventListener("change", async (event) => {
    chooseOfferer(event.target.value);
    onChange(await currentOfferer());
  });
  return wrapper;
}

/** The message shown on a page that needs an offerer, when the pro has none yet. */
export function noOffererYet() {
  return h("div", { class: "message message-info" },
    "Vous n'avez pas encore de structure. ", h("a", { href: "#/structures" }, "Créez votre structure"),
    " à partir de son numéro SIREN.");
}
