//! Identity mutations: sign-up, log-in, token refresh, log-out, organisation switch,
//! invitations. They return `AuthPayload` and read the auth config from the schema.

use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::gql::{SchemaParts, mutation, prop};
use opsgraph_core::{AppError, AppResult, RequestCtx};
use serde::Deserialize;

use super::mutation::{id, id_nn, s, s_nn};
use crate::service::auth::{self, AuthTokens};
use crate::service::signup;
use crate::service::tokens::AuthConfig;
use opsgraph_core::gql::input_object;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenInput {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrgInput {
    organization_id: String,
}

fn auth_payload_object() -> Object {
    type A = AuthTokens;
    Object::new("AuthPayload")
        .description("Tokens of a signed-in session.")
        .field(prop::<A>("accessToken", s_nn(), "Short-lived bearer token for `Authorization: Bearer`.", |a| {
            a.access_token.clone().into()
        }))
        .field(prop::<A>(
            "accessTokenExpiresAt",
            TypeRef::named_nn("DateTime"),
            "When the access token expires.",
            |a| a.access_expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into(),
        ))
        .field(prop::<A>(
            "refreshToken",
            s_nn(),
            "Single-use token for `refreshToken`; reuse revokes the session.",
            |a| a.refresh_token.clone().into(),
        ))
        .field(
            Field::new("user", TypeRef::named_nn("User"), |ctx| {
                FieldFuture::new(async move {
                    Ok(Some(FieldValue::owned_any(opsgraph_core::gql::parent::<A>(&ctx)?.user.clone())))
                })
            })
            .description("The signed-in user."),
        )
        .field(prop::<A>("organizationId", id(), "The active organisation of these tokens.", |a| {
            opsgraph_core::gql::opt(a.org_id.map(|o| opsgraph_core::id::encode("Organization", o)))
        }))
}

#[derive(serde::Deserialize)]
struct VerifyInput {
    token: String,
}

/// An auth mutation: gets the request context, the auth config and the deserialized input.
fn auth_mutation<I, F, Fut>(name: &str, input_type: &str, desc: &str, f: F) -> Field
where
    I: serde::de::DeserializeOwned + Send + 'static,
    F: Fn(Arc<RequestCtx>, AuthConfig, I) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = AppResult<AuthTokens>> + Send + 'static,
{
    Field::new(name, TypeRef::named("AuthPayload"), move |ctx| {
        let f = f.clone();
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let cfg = ctx.data::<AuthConfig>().map_err(|_| AppError::internal("auth config missing"))?.clone();
            let input: I =
                ctx.args.try_get("input")?.deserialize().map_err(|e| AppError::bad_input("input", e.message))?;
            let tokens = f(req.clone(), cfg, input).await?;
            req.mark_signed_in(tokens.user.id);
            Ok(Some(FieldValue::owned_any(tokens)))
        })
    })
    .argument(InputValue::new("input", TypeRef::named_nn(input_type)).description("The mutation's input."))
    .description(desc)
}

/// Registers the identity mutations and their types.
pub fn register(parts: &mut SchemaParts) {
    parts.ty(input_object(
        "SignUpInput",
        "Create an account and an organisation you own.",
        &[
            ("email", s_nn(), "Login e-mail."),
            ("password", s_nn(), "At least 10 characters."),
            ("firstName", s_nn(), "Given name."),
            ("lastName", s_nn(), "Family name."),
            ("organizationName", s_nn(), "Name of the new organisation."),
        ],
    ));
    parts.ty(input_object(
        "LogInInput",
        "Sign in.",
        &[
            ("email", s_nn(), "Login e-mail."),
            ("password", s_nn(), "Password."),
            ("organizationId", id(), "Organisation to activate (default: your first)."),
        ],
    ));
    parts.ty(input_object(
        "RefreshTokenInput",
        "Exchange a refresh token.",
        &[("refreshToken", s_nn(), "The refresh token.")],
    ));
    parts.ty(input_object(
        "LogOutInput",
        "End a session.",
        &[("refreshToken", s_nn(), "The session's refresh token.")],
    ));
    parts.ty(input_object(
        "SwitchOrganizationInput",
        "Activate another of your organisations.",
        &[("organizationId", id_nn(), "The organisation.")],
    ));
    parts.object(auth_payload_object());
    parts.object(Object::new("SignUpPayload").description("What signUp answers (the same for every address).").field(
        prop::<&'static str>("message", TypeRef::named_nn(TypeRef::STRING), "What to do next.", |m| (*m).into()),
    ));
    parts.mutation(mutation(
        "signUp",
        "SignUpInput",
        "SignUpPayload",
        "Start creating an account and organisation: a verification e-mail is sent (the answer never says whether \
         the address is registered). Finish with verifyEmail.",
        |req, i: signup::SignUpInput| async move {
            Ok(FieldValue::owned_any(signup::sign_up(&req.db, &req.session, i).await?))
        },
    ));
    parts.ty(input_object(
        "VerifyEmailInput",
        "Finish a sign-up.",
        &[("token", s_nn(), "The token of the verification e-mail.")],
    ));
    parts.mutation(auth_mutation(
        "verifyEmail",
        "VerifyEmailInput",
        "Finish a sign-up with the e-mailed token: creates the account and organisation and signs in.",
        |req, cfg, i: VerifyInput| async move { signup::verify_email(&req.db, &cfg, &req.session, &i.token).await },
    ));
    parts.mutation(auth_mutation(
        "logIn",
        "LogInInput",
        "Sign in (rate limited per account and address).",
        |req, cfg, i: auth::LogInInput| async move { auth::log_in(&req.db, &cfg, &req.session, i).await },
    ));
    parts.mutation(auth_mutation(
        "refreshToken",
        "RefreshTokenInput",
        "Rotate a refresh token into a new token pair.",
        |req, cfg, i: TokenInput| async move { auth::refresh(&req.db, &cfg, &i.refresh_token).await },
    ));
    parts.ty(input_object(
        "AcceptInvitationInput",
        "Redeem an invitation.",
        &[
            ("token", s_nn(), "The invitation token from `addMember`."),
            ("password", s_nn(), "Your password (an existing account must give its own)."),
            ("firstName", s(), "Given name."),
            ("lastName", s(), "Family name."),
        ],
    ));
    parts.mutation(auth_mutation(
        "acceptInvitation",
        "AcceptInvitationInput",
        "Set your password with an invitation and sign in.",
        |req, cfg, i| async move { crate::service::invitations::accept(&req.db, &cfg, &req.session, i).await },
    ));
    parts.mutation(auth_mutation(
        "switchOrganization",
        "SwitchOrganizationInput",
        "New tokens with another of your organisations active.",
        |req, cfg, i: OrgInput| async move {
            auth::switch_organization(&req.db, &cfg, &req.session, &i.organization_id).await
        },
    ));
    parts.object(Object::new("LogOutPayload").description("Result of logging out.").field(prop::<bool>(
        "revoked",
        TypeRef::named_nn(TypeRef::BOOLEAN),
        "Whether a session was revoked.",
        |b| (*b).into(),
    )));
    parts.mutation(mutation(
        "logOut",
        "LogOutInput",
        "LogOutPayload",
        "Revoke the session of a refresh token.",
        |req, i: TokenInput| async move {
            Ok(FieldValue::owned_any(auth::log_out(&req.db, &req.session, &i.refresh_token).await?))
        },
    ));
}
