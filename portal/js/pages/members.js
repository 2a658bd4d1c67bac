// Collaborators: the "Membres" section of each structure (its members, invite by e-mail, remove one, accept or
// refuse a request to join) and the page an invitation's e-mail links to (#/invitation?id=…), reached after
// signing in or signing up (app.js brings the person back with `suite=`).
import { api } from "../api.js";
import { chooseOfferer, forgetOfferers, loadOfferers } from "../context.js";
import { registerMessages } from "../messages.js";
import { session } from "../session.js";
import { field, formatDate, formatDateTime, h, page, showMessage, submitForm, table, withProgress } from "../ui.js";

registerMessages({
  ALREADY_MEMBER: "Cette personne est déjà membre de la structure.",
  LAST_MEMBER: "Une structure garde au moins un membre : invitez quelqu'un avant de vous retirer.",
  MEMBER_NOT_FOUND: "Cette personne n'est plus membre de la structure.",
  ATTACHMENT_NOT_FOUND: "Cette demande de rattachement n'existe plus.",
  ATTACHMENT_ALREADY_DECIDED: "Cette demande de rattachement a déjà reçu une réponse.",
  INVITATION_NOT_FOUND: "Cette invitation n'existe pas : vérifiez le lien reçu par e-mail.",
  INVITATION_EXPIRED: "Cette invitation a expiré (elle est valable 7 jours) : demandez-en une nouvelle à un " +
    "membre de la structure.",
  NOT_INVITED: "Cette invitation a été envoyée à une autre adresse e-mail : connectez-vous avec l'adresse qui l'a " +
    "reçue.",
});

const nameOf = (person) => [person.firstName, person.lastName].filter(Boolean).join(" ");
const who = (person) => (nameOf(person) ? `${nameOf(person)} (${person.email || "adresse inconnue"})` :
  person.email || "adresse inconnue");

// -- the "Membres" section of a structure's card ---------------------------------------------------------------------
/** The section, filled once the team is read; `onLeft` runs when the pro removed themselves. */
export function membersSection(offerer, onLeft) {
  const headingId = `membres-${offerer.id}`;
  const section = h("section", { class: "members", "aria-labelledby": headingId },
    h("h3", { id: headingId }, "Membres"),
    h("p", { class: "muted" }, "Chargement des membres…"));
  const refresh = async (message, kind = "ok") => {
    let team;
    try {
      team = await api(`/offerers/${encodeURIComponent(offerer.id)}/members`);
    } catch (error) {
      section.replaceChildren(section.firstChild,
        h("p", { class: "message message-error", role: "alert" }, error.message));
      return;
    }
    drawTeam(section, offerer, team, refresh, onLeft);
    if (message) showMessage(section.querySelector(".members-status"), message, kind).focus();
  };
  refresh();
  return section;
}

function drawTeam(section, offerer, team, refresh, onLeft) {
  const me = (session.user()?.email || "").toLowerCase() || null;
  const status = h("div", { class: "members-status" });
  const act = async (button, work, done) => {
    try {
      await withProgress(work, button, "Patientez…");
    } catch (error) {
      showMessage(status, error.message);
      return;
    }
    await done();
  };
  const removeButton = (member) => {
    const label = member.email && member.email === me ? "Me retirer" : "Retirer";
    const button = h("button", { type: "button", class: "button-danger" }, label,
      h("span", { class: "visually-hidden" }, ` ${who(member)} de ${offerer.name}`));
    button.addEventListener("click", () => act(button,
      () => api(`/offerers/${encodeURIComponent(offerer.id)}/members/${encodeURIComponent(member.userId)}`,
        { method: "DELETE" }),
      async () => {
        if (member.email && member.email === me) return onLeft(`Vous n'êtes plus membre de ${offerer.name}.`);
        return refresh(`${who(member)} n'est plus membre de la structure.`);
      }));
    return button;
  };
  const members = table(`Membres de ${offerer.name}`, [
    ["Membre", (member) => h("span", { class: "break" }, who(member))],
    ["Depuis le", (member) => formatDate(member.since)],
    ["Action", (member) => (team.members.length > 1 ? removeButton(member) : h("span", { class: "muted" },
      "Dernier membre"))],
  ], team.members, "Aucun membre.");

  const requests = team.attachmentRequests.length ? [
    h("h4", {}, "Demandes de rattachement"),
    h("p", { class: "hint" }, "Ces personnes ont déclaré le SIREN de la structure. Elles ne voient rien de la " +
      "structure tant que leur demande n'est pas acceptée."),
    h("ul", { class: "plain-list requests" }, team.attachmentRequests.map((request) => {
      const decide = (verb, text, done) => {
        const button = h("button", { type: "button", class: verb === "accept" ? "" : "button-secondary" }, text,
          h("span", { class: "visually-hidden" }, ` la demande de ${who(request)}`));
        button.addEventListener("click", () => act(button,
          () => api(`/offerers/${encodeURIComponent(offerer.id)}/attachments/${encodeURIComponent(request.userId)}/` +
            verb, { method: "POST" }),
          () => refresh(done)));
        return button;
      };
      return h("li", { class: "request" },
        h("p", {}, h("strong", { class: "break" }, who(request)), ` — demandée le ${formatDateTime(request.requestedAt)}`),
        h("div", { class: "actions" },
          decide("accept", "Accepter", `${who(request)} est maintenant membre de la structure.`),
          decide("refuse", "Refuser", `La demande de ${who(request)} est refusée : un e-mail l'en informe.`)));
    })),
  ] : [];

  const invitations = team.invitations.length ? [
    h("h4", {}, "Invitations envoyées"),
    h("ul", { class: "plain-list" }, team.invitations.map((invitation) => h("li", {},
      h("span", { class: "break" }, invitation.email), " — ",
      invitation.expired
        ? h("span", { class: "badge badge-error" }, "Expirée : invitez à nouveau")
        : `en attente, valable jusqu'au ${formatDateTime(invitation.expiresAt)}`))),
  ] : [];

  const form = h("form", { novalidate: true, class: "invite-form", "aria-label": `Inviter un membre dans ${offerer.name}` },
    field("Adresse e-mail de la personne à inviter", { type: "email", name: "email", required: true,
      autocomplete: "off", hint: "Elle reçoit un lien, valable 7 jours, pour rejoindre la structure." }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Inviter",
      h("span", { class: "visually-hidden" }, ` dans ${offerer.name}`))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const sent = await submitForm(form, async ({ email }) => {
      const address = String(email || "").trim();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
        const error = new Error("Indiquez une adresse e-mail, par exemple prenom.nom@mairie.fr.");
        error.fields = [{ field: "email", message: error.message }];
        throw error;
      }
      return api(`/offerers/${encodeURIComponent(offerer.id)}/invitations`, { method: "POST", body: { email: address } });
    }, "Envoi…");
    if (sent) await refresh(`Invitation envoyée à ${sent.email}, valable jusqu'au ${formatDateTime(sent.expiresAt)}.`);
  });

  section.replaceChildren(section.firstChild, status, members, ...requests, ...invitations,
    h("h4", {}, "Inviter un membre"), form);
}

// -- the invitation's page --------------------------------------------------------------------------------------------
export async function invitation(view, { params, go }) {
  const id = params.get("id") || "";
  if (!id) {
    page(view, "Invitation",
      h("p", { class: "message message-error", role: "alert" }, "Ce lien d'invitation est incomplet : ouvrez le " +
        "lien reçu par e-mail tel quel."));
    return;
  }
  const button = h("button", { type: "button" }, "Accepter l'invitation");
  const box = h("div", {});
  page(view, "Rejoindre une structure",
    h("p", {}, "Un membre d'une structure inscrite sur le pass Culture vous invite à la rejoindre. En acceptant, " +
      "vous pourrez gérer ses lieux, ses offres, ses réservations et ses remboursements."),
    h("p", {}, "Vous êtes connecté·e avec l'adresse ", h("strong", { class: "break" }, session.user()?.email || "—"),
      "."),
    box, h("div", { class: "actions" }, button));
  button.addEventListener("click", async () => {
    let accepted;
    try {
      accepted = await withProgress(() => api(`/invitations/${encodeURIComponent(id)}/accept`, { method: "POST" }),
        button, "Patientez…");
    } catch (error) {
      const message = showMessage(box, error.message);
      if (error.code === "NOT_INVITED") {
        const other = h("button", { type: "button", class: "button-secondary" }, "Me connecter avec une autre adresse");
        other.addEventListener("click", async () => {
          await session.signOut();
          go(`/connexion?suite=${encodeURIComponent(`/invitation?id=${id}`)}`);
        });
        message.append(" ", other);
      }
      return;
    }
    forgetOfferers();
    await loadOfferers(true);
    chooseOfferer(accepted.offererId);
    button.remove();
    showMessage(box, `Bienvenue : vous êtes maintenant membre de « ${accepted.offererName} ».`, "ok").focus();
    box.append(h("p", {}, h("a", { class: "button", href: "#/structures" }, "Voir mes structures")));
  });
}
