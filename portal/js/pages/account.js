// Account pages: sign in, sign up, the emailed confirmation code, the forgotten password. Cognito answers them
// (cognito.js, SRP: the password never leaves the browser); the post-confirmation trigger makes the new user a pro.
import { session } from "../session.js";
import { createCognito } from "../cognito.js";
import { field, h, page, showMessage, submitForm } from "../ui.js";

const COGNITO_MESSAGES = {
  NotAuthorizedException: "Adresse e-mail ou mot de passe incorrect.",
  UserNotFoundException: "Adresse e-mail ou mot de passe incorrect.",
  UserNotConfirmedException: "Votre adresse e-mail n'est pas encore confirmée : saisissez le code reçu par e-mail.",
  UsernameExistsException: "Un compte existe déjà avec cette adresse e-mail : connectez-vous.",
  InvalidPasswordException:
    "Mot de passe trop faible : au moins 12 caractères, dont une minuscule, une majuscule et un chiffre.",
  CodeMismatchException: "Ce code n'est pas le bon : vérifiez l'e-mail reçu.",
  ExpiredCodeException: "Ce code a expiré : demandez-en un nouveau.",
  LimitExceededException: "Trop de tentatives : patientez quelques minutes, puis demandez un nouveau code.",
  TooManyRequestsException: "Trop de demandes : patientez quelques instants.",
  InvalidParameterException: "Certains champs sont invalides : vérifiez l'adresse e-mail et le mot de passe.",
  UnexpectedLambdaException:
    "Votre compte est confirmé, mais son activation n'a pas abouti : connectez-vous, ou contactez le support.",
  UserLambdaValidationException:
    "Votre compte est confirmé, mais son activation n'a pas abouti : connectez-vous, ou contactez le support.",
  NetworkError: "Le service de connexion ne répond pas. Vérifiez votre connexion internet puis réessayez.",
  NETWORK: "Le service de connexion ne répond pas. Vérifiez votre connexion internet puis réessayez.",
};
const PASSWORD_HINT = "Au moins 12 caractères, dont une minuscule, une majuscule et un chiffre.";

function cognitoOf(config) {
  return createCognito({ endpoint: config.cognitoEndpoint, clientId: config.clientId, userPoolId: config.userPoolId });
}

/** Cognito's errors in French (api.js does it for the API); the field they concern when there is one. */
async function cognitoCall(work, fieldOf = {}) {
  try {
    return await work();
  } catch (error) {
    const code = error.code || (error instanceof TypeError ? "NETWORK" : "");
    const french = new Error(COGNITO_MESSAGES[code] || "La demande n'a pas abouti. Réessayez dans quelques instants.");
    french.code = code;
    french.fields = fieldOf[code] ? [{ field: fieldOf[code], message: french.message }] : [];
    throw french;
  }
}

/** `&suite=…` when the person is on their way to a page (an invitation's): kept through sign-up and confirmation. */
function suiteOf(params) {
  const suite = params?.get("suite");
  return suite ? `&suite=${encodeURIComponent(suite)}` : "";
}

function emailField(value = "") {
  return field("Adresse e-mail", { type: "email", name: "email", autocomplete: "email", required: true, value });
}

export async function signIn(view, { params, go, config }) {
  const cognito = cognitoOf(config);
  const form = h("form", { novalidate: true },
    emailField(params.get("email") || ""),
    field("Mot de passe", { type: "password", name: "password", autocomplete: "current-password", required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Se connecter")));
  page(view, "Connexion à l'espace pro", form,
    h("p", {}, h("a", { href: "#/mot-de-passe-oublie" }, "Mot de passe oublié ?")),
    h("h2", {}, "Pas encore de compte ?"),
    h("p", {}, "Libraires, bibliothèques, cinémas, lieux de spectacle : ",
      h("a", { href: `#/inscription?${suiteOf(params).slice(1)}` }, "créez votre compte pro"), "."));
  if (params.get("confirme")) showMessage(form, "Votre compte est confirmé : connectez-vous.", "ok");
  else if ((params.get("suite") || "").startsWith("/invitation")) {
    showMessage(form, "Pour rejoindre la structure qui vous invite, connectez-vous — ou créez votre compte — avec " +
      "l'adresse e-mail qui a reçu l'invitation.", "info");
  }
  if (params.get("nouveau-mot-de-passe")) showMessage(form, "Votre mot de passe est changé : connectez-vous.", "ok");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitForm(form, async ({ email, password }) => {
      const tokens = await cognitoCall(() => cognito.signIn(email.trim(), password));
      session.save({ ...tokens, email: email.trim() });
      return true;
    }, "Connexion…");
    if (done) go(params.get("suite") || "/structures");
    else if (form.querySelector(".form-message")?.textContent === COGNITO_MESSAGES.UserNotConfirmedException) {
      const email = encodeURIComponent(new FormData(form).get("email").trim());
      form.querySelector(".form-message").append(" ", h("a", { href: `#/confirmation?email=${email}` },
        "Saisir le code"));
    }
  });
}

export async function signUp(view, { params, go, config }) {
  const cognito = cognitoOf(config);
  const form = h("form", { novalidate: true },
    h("div", { class: "row" },
      field("Prénom", { name: "given_name", autocomplete: "given-name", required: true, maxlength: 100 }),
      field("Nom", { name: "family_name", autocomplete: "family-name", required: true, maxlength: 100 })),
    emailField(),
    field("Mot de passe", { type: "password", name: "password", autocomplete: "new-password", required: true,
      hint: PASSWORD_HINT, minlength: 12 }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Créer mon compte")));
  page(view, "Créer votre compte pro", h("p", {},
    "Un code de confirmation vous sera envoyé par e-mail. Vous créerez ensuite votre structure à partir de son SIREN."),
  form, h("p", {}, "Déjà un compte ? ", h("a", { href: `#/connexion?${suiteOf(params).slice(1)}` }, "Connectez-vous"),
    "."));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = await submitForm(form, async (values) => {
      const missing = ["given_name", "family_name", "email", "password"].filter((name) => !values[name].trim());
      if (missing.length) {
        const error = new Error("Renseignez tous les champs obligatoires.");
        error.fields = missing.map((name) => ({ field: name, message: "Ce champ est obligatoire." }));
        throw error;
      }
      await cognitoCall(() => cognito.signUp(values.email.trim(), values.password, {
        given_name: values.given_name.trim(), family_name: values.family_name.trim() }),
      { InvalidPasswordException: "password", UsernameExistsException: "email", InvalidParameterException: "email" });
      return values.email.trim();
    }, "Création du compte…");
    if (email) go(`/confirmation?email=${encodeURIComponent(email)}&envoye=1${suiteOf(params)}`);
  });
}

export async function confirm(view, { params, go, config }) {
  const cognito = cognitoOf(config);
  const email = params.get("email") || "";
  const form = h("form", { novalidate: true },
    emailField(email),
    field("Code de confirmation", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true,
      maxlength: 6, hint: "Les 6 chiffres reçus par e-mail." }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Confirmer mon compte"),
      h("button", { type: "button", class: "button-secondary", id: "renvoyer" }, "Recevoir un nouveau code")));
  page(view, "Confirmer votre adresse e-mail", form);
  if (params.get("envoye")) showMessage(form, `Un code vous a été envoyé à ${email}.`, "ok");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitForm(form, async (values) => {
      await cognitoCall(() => cognito.confirmSignUp(values.email.trim(), values.code.trim()),
        { CodeMismatchException: "code", ExpiredCodeException: "code" });
      return values.email.trim();
    }, "Confirmation…");
    if (done) go(`/connexion?email=${encodeURIComponent(done)}&confirme=1${suiteOf(params)}`);
  });
  form.querySelector("#renvoyer").addEventListener("click", async (event) => {
    const sent = await submitForm(form, async (values) => {
      await cognitoCall(() => cognito.resendCode(values.email.trim()));
      return values.email.trim();
    }, "Envoi…");
    if (sent) showMessage(form, `Un nouveau code vous a été envoyé à ${sent}.`, "ok");
    event.target.focus();
  });
}

export async function forgotPassword(view, { params, go, config }) {
  const cognito = cognitoOf(config);
  const askForm = h("form", { novalidate: true }, emailField(params.get("email") || ""),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Recevoir un code")));
  const resetForm = h("form", { novalidate: true, hidden: true },
    field("Code reçu par e-mail", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true,
      maxlength: 6 }),
    field("Nouveau mot de passe", { type: "password", name: "password", autocomplete: "new-password", required: true,
      hint: PASSWORD_HINT }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Changer mon mot de passe")));
  page(view, "Mot de passe oublié", h("p", {}, "Saisissez votre adresse e-mail : vous recevrez un code pour choisir un "
    + "nouveau mot de passe."), askForm, resetForm);
  let email = "";
  askForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    email = await submitForm(askForm, async (values) => {
      await cognitoCall(() => cognito.forgotPassword(values.email.trim()));
      return values.email.trim();
    }, "Envoi…");
    if (!email) return;
    resetForm.hidden = false;
    showMessage(resetForm, `Si un compte existe pour ${email}, un code vient de lui être envoyé.`, "ok");
    resetForm.querySelector("input").focus();
  });
  resetForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitForm(resetForm, async (values) => {
      await cognitoCall(() => cognito.confirmForgotPassword(email, values.code.trim(), values.password), {
        CodeMismatchException: "code", ExpiredCodeException: "code", InvalidPasswordException: "password" });
      return true;
    }, "Enregistrement…");
    if (done) go(`/connexion?email=${encodeURIComponent(email)}&nouveau-mot-de-passe=1`);
  });
}
