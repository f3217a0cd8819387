//! Identity mutations: sign-up, log-in, token refresh, log-out, organisation switch,
//! invitations. They return `AuthPayload` and read the auth config from the schema.

use crate::nodes::User;
use opsgraph_core::gql::scalar;
use opsgraph_core::node::NodeType;
use opsgraph_derive::GqlInput;
use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::gql::{GqlInput as GqlInputType, SchemaParts, mutation, prop};
use opsgraph_core::input::Id;
use opsgraph_core::{AppError, AppResult, RequestCtx};
use serde::Deserialize;

use super::common::{id, s_nn};
use crate::service::auth::{self, AuthTokens};
use crate::service::signup;
use crate::service::tokens::AuthConfig;

/// End a session.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct LogOutInput {
    /// The session's refresh token.
    refresh_token: String,
}

/// Exchange a refresh token.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct RefreshTokenInput {
    /// The refresh token.
    refresh_token: String,
}

/// Activate another of your organisations.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct SwitchOrganizationInput {
    /// The organisation.
    organization_id: Id,
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
            TypeRef::named_nn(scalar::DATE_TIME),
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
            Field::new("user", User::nn(), |ctx| {
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

/// Finish a sign-up.
#[derive(Deserialize, GqlInput)]
struct VerifyEmailInput {
    /// The token of the verification e-mail.
    token: String,
}

/// An auth mutation: gets the request context, the auth config and the deserialized input.
fn auth_mutation<I, F, Fut>(name: &str, desc: &str, f: F) -> Field
where
    I: serde::de::DeserializeOwned + GqlInputType + Send + 'static,
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
    .argument(InputValue::new("input", TypeRef::named_nn(I::NAME)).description("The mutation's input."))
    .description(desc)
}

/// Registers the identity mutations and their types.
pub fn register(parts: &mut SchemaParts) {
    parts.input::<signup::SignUpInput>();
    parts.input::<auth::LogInInput>();
    parts.input::<RefreshTokenInput>();
    parts.input::<LogOutInput>();
    parts.input::<SwitchOrganizationInput>();
    parts.object(auth_payload_object());
    parts.object(Object::new("SignUpPayload").description("What signUp answers (the same for every address).").field(
        prop::<&'static str>("message", TypeRef::named_nn(TypeRef::STRING), "What to do next.", |m| (*m).into()),
    ));
    parts.mutation(mutation(
        "signUp",
        "SignUpPayload",
        "Start creating an account and organisation: a verification e-mail is sent (the answer never says whether \
         the address is registered). Finish with verifyEmail.",
        |req, i: signup::SignUpInput| async move {
            Ok(FieldValue::owned_any(signup::sign_up(&req.db, &req.session, i).await?))
        },
    ));
    parts.input::<VerifyEmailInput>();
    parts.mutation(auth_mutation(
        "verifyEmail",
        "Finish a sign-up with the e-mailed token: creates the account and organisation and signs in.",
        |req, cfg, i: VerifyEmailInput| async move { signup::verify_email(&req.db, &cfg, &req.session, &i.token).await },
    ));
    parts.mutation(auth_mutation(
        "logIn",
        "Sign in (rate limited per account and address).",
        |req, cfg, i: auth::LogInInput| async move { auth::log_in(&req.db, &cfg, &req.session, i).await },
    ));
    parts.mutation(auth_mutation(
        "refreshToken",
        "Rotate a refresh token into a new token pair.",
        |req, cfg, i: RefreshTokenInput| async move { auth::refresh(&req.db, &cfg, &i.refresh_token).await },
    ));
    parts.input::<crate::service::invitations::AcceptInvitationInput>();
    parts.mutation(auth_mutation(
        "acceptInvitation",
        "Set your password with an invitation and sign in.",
        |req, cfg, i| async move { crate::service::invitations::accept(&req.db, &cfg, &req.session, i).await },
    ));
    parts.mutation(auth_mutation(
        "switchOrganization",
        "New tokens with another of your organisations active.",
        |req, cfg, i: SwitchOrganizationInput| async move {
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
        "LogOutPayload",
        "Revoke the session of a refresh token.",
        |req, i: LogOutInput| async move {
            Ok(FieldValue::owned_any(auth::log_out(&req.db, &req.session, &i.refresh_token).await?))
        },
    ));
}
