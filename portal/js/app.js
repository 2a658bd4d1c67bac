// The portal's shell: reads config.json, routes `#/page` to a page module (each loaded on first visit: the first
// page carries only what it needs), keeps the menu and the document title true, moves focus to the new page.
import { setApiUrl } from "./api.js";
import { createCognito } from "./cognito.js";
import { session, useCognito } from "./session.js";
import { h, page } from "./ui.js";

// path → [module, export, needs a signed-in pro]
const ROUTES = {
  "/connexion": ["./pages/account.js", "signIn", false],
  "/inscription": ["./pages/account.js", "signUp", false],
  "/confirmation": ["./pages/account.js", "confirm", false],
  "/mot-de-passe-oublie": ["./pages/account.js", "forgotPassword", false],
  "/structures": ["./pages/structures.js", "default", true],
  "/offres": ["./pages/offers.js", "list", true],
  "/offres/nouvelle": ["./pages/offers.js", "create", true],
  "/offre": ["./pages/offers.js", "detail", true],
  "/importation": ["./pages/stock-import.js", "default", true],
  "/guichet": ["./pages/counter.js", "default", true],
  "/reservations": ["./pages/bookings.js", "default", true],
  "/remboursements": ["./pages/reimbursements.js", "default", true],
  "/invitation": ["./pages/members.js", "invitation", true],
};
const HOME = "/structures";

export const config = {};

function parseHash() {
  const [path, query] = (window.location.hash.replace(/^#/, "") || "/").split("?");
  return { path, params: new URLSearchParams(query || "") };
}

export function go(path) { window.location.hash = `#${path}`; }

function updateChrome(path) {
  const signedIn = session.signedIn();
  document.getElementById("menu").hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
  for (const link of document.querySelectorAll("#menu a")) {
    if (link.getAttribute("href") === `#${path}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

let renders = 0;

async function render() {
  // A page whose module arrives late must not replace the page asked for after it: each render draws into a
  // detached <main> and swaps it in only if it is still the latest one asked for.
  const ticket = ++renders;
  const shown = document.getElementById("contenu");
  const view = shown.cloneNode(false);
  let { path, params } = parseHash();
  if (!ROUTES[path]) path = session.signedIn() ? HOME : "/connexion";
  const [module, name, needsSession] = ROUTES[path];
  if (needsSession && !session.signedIn()) {
    const query = params.toString();  // kept: an invitation's id
    go(`/connexion?suite=${encodeURIComponent(query ? `${path}?${query}` : path)}`);
    return;
  }
  updateChrome(path);
  let loaded;
  try {
    loaded = await import(module);
  } catch {
    loaded = null;
  }
  if (ticket !== renders) return;
  shown.replaceWith(view);
  try {
    if (!loaded) throw new Error("La page n'a pas pu être chargée : vérifiez votre connexion puis réessayez.");
    await loaded[name](view, { params, go, config, isCurrent: () => ticket === renders });
  } catch (error) {
    if (ticket !== renders) return;
    page(view, "Une erreur est survenue",
      h("p", { class: "message message-error", role: "alert" }, error.message || "La page n'a pas pu s'afficher."),
      h("p", {}, h("a", { href: window.location.hash }, "Réessayer")));
  }
  if (ticket === renders) view.focus();
}

async function start() {
  Object.assign(config, await (await fetch("config.json", { cache: "no-store" })).json());
  setApiUrl(config.apiUrl || "");
  useCognito(createCognito({ endpoint: config.cognitoEndpoint, clientId: config.clientId, userPoolId: config.userPoolId }));
  document.getElementById("sign-out").addEventListener("click", async () => {
    await session.signOut();
    go("/connexion");
  });
  // the skip link jumps to the page's content without touching the route (the hash is the router's)
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("contenu").focus();
  });
  window.addEventListener("hashchange", render);
  await render();
}

start().catch(() => {
  document.getElementById("contenu").replaceChildren(
    h("p", { class: "message message-error", role: "alert" }, "L'espace pro n'a pas pu démarrer. Rechargez la page."));
});
