// Cognito's user pool API called directly from the browser, as AWS serves it (POST to the regional endpoint with
// X-Amz-Target, JSON in and out, no signature for these public actions); locally the same calls go to the gateway's
// /_local/cognito. Sign-in is SRP (srp.js): the app client allows nothing else.
import { cognitoTimestamp, passwordClaim, startSrp } from "./srp.js";

/** A refusal from Cognito: `.code` is its error name (NotAuthorizedException, CodeMismatchException…). */
export class CognitoError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "CognitoError";
    this.code = code;
  }
}

export function createCognito({ endpoint, clientId, userPoolId }) {
  const poolName = userPoolId.split("_")[1];

  async function call(action, body) {
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new CognitoError("NetworkError", "Cognito could not be reached.");
    }
    const text = await response.text();
    let data = {};
    try { data = text ? JSON.parse(text) : {}; } catch { /* an answer that is not JSON: said below */ }
    if (!response.ok) {
      // "__type" may carry a namespace ("com.amazonaws…#NotAuthorizedException"), the header a ":…" suffix
      const type = data.__type || response.headers.get("x-amzn-ErrorType") || `HTTP${response.status}`;
      const code = String(type).split("#").pop().split(":")[0];
      throw new CognitoError(code, data.message || data.Message || `Cognito answered HTTP ${response.status}.`);
    }
    return data;
  }

  const tokens = (result) => {
    const out = { idToken: result.IdToken, accessToken: result.AccessToken, expiresIn: result.ExpiresIn };
    if (result.RefreshToken) out.refreshToken = result.RefreshToken; // a refresh keeps the one it was given
    return out;
  };
  const destination = (answer) => ({ destination: answer.CodeDeliveryDetails?.Destination || "" });

  return {
    /** attributes: {given_name, family_name}. A code is emailed; the account is confirmed with it. */
    async signUp(email, password, attributes = {}) {
      const extra = Object.entries(attributes).filter(([, value]) => value !== undefined && value !== null && value !== "");
      const answer = await call("SignUp", {
        ClientId: clientId, Username: email, Password: password,
        UserAttributes: [{ Name: "email", Value: email }, ...extra.map(([Name, Value]) => ({ Name, Value: String(Value) }))],
      });
      return { userSub: answer.UserSub, confirmed: Boolean(answer.UserConfirmed), ...destination(answer) };
    },

    async confirmSignUp(email, code) {
      await call("ConfirmSignUp", { ClientId: clientId, Username: email, ConfirmationCode: String(code).trim() });
    },

    async resendCode(email) {
      return destination(await call("ResendConfirmationCode", { ClientId: clientId, Username: email }));
    },

    /** SRP: InitiateAuth (our A) → PASSWORD_VERIFIER (salt, B, secret block) → our proof → the tokens. */
    async signIn(email, password) {
      const { a, A } = startSrp();
      const started = await call("InitiateAuth", {
        ClientId: clientId, AuthFlow: "USER_SRP_AUTH", AuthParameters: { USERNAME: email, SRP_A: A.toString(16) },
      });
      if (started.ChallengeName !== "PASSWORD_VERIFIER") {
        throw new CognitoError(started.ChallengeName || "UnexpectedAnswer", "Cognito asked for an unexpected step.");
      }
      const p = started.ChallengeParameters;
      const timestamp = cognitoTimestamp();
      const signature = await passwordClaim({
        poolName, userId: p.USER_ID_FOR_SRP, password, a, A,
        salt: p.SALT, srpB: p.SRP_B, secretBlock: p.SECRET_BLOCK, timestamp,
      });
      const answer = await call("RespondToAuthChallenge", {
        ClientId: clientId,
        ChallengeName: "PASSWORD_VERIFIER",
        ChallengeResponses: {
          USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK,
          PASSWORD_CLAIM_SIGNATURE: signature, TIMESTAMP: timestamp,
        },
        ...(started.Session ? { Session: started.Session } : {}),
      });
      if (!answer.AuthenticationResult) { // NEW_PASSWORD_REQUIRED, MFA…: not steps of a pro's sign-in
        throw new CognitoError(answer.ChallengeName || "UnexpectedAnswer", "Cognito asked for another step.");
      }
      return tokens(answer.AuthenticationResult);
    },

    /** New ID and access tokens (no new refresh token, unless Cognito rotates it). */
    async refresh(refreshToken) {
      const answer = await call("InitiateAuth", {
        ClientId: clientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: refreshToken },
      });
      return tokens(answer.AuthenticationResult);
    },

    async forgotPassword(email) {
      return destination(await call("ForgotPassword", { ClientId: clientId, Username: email }));
    },

    async confirmForgotPassword(email, code, password) {
      await call("ConfirmForgotPassword", {
        ClientId: clientId, Username: email, ConfirmationCode: String(code).trim(), Password: password,
      });
    },

    /** Revokes every refresh token of the user (the ID and access tokens live until they expire). */
    async signOut(accessToken) {
      await call("GlobalSignOut", { AccessToken: accessToken });
    },
  };
}
