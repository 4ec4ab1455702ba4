use crate::auth::{password, session};
use crate::error::AppError;
use crate::graphql::types::enums::Role;
use crate::graphql::types::user::{LoginPayload, User};
use crate::graphql::{ClientIp, caller, parse_id, signed_in_user, state, user_admin};
use crate::store;
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Adds a user to the caller's account (admins signed in as a user). The password must
    /// have at least 12 characters and not be easy to guess (zxcvbn score 3 or more). An
    /// email already in use anywhere is refused with the same answer whichever account
    /// uses it.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Sign-in email.")] email: String,
        #[graphql(desc = "Initial password.")] password: String,
        #[graphql(desc = "What the user may do.")] role: Role,
    ) -> async_graphql::Result<User> {
        let c = user_admin(ctx)?;
        let st = state(ctx);
        let email = store::users::normalise_email(&email)?;
        let hash = password::hash_new(password, vec![email.clone(), "pricebook".into()]).await?;
        let user = store::users::create(&st.db, c.account_id, &email, hash, role.into()).await?;
        store::audit::record(
            &st.db,
            c,
            "user.create",
            Some(("user", user.id.to_string())),
            serde_json::json!({ "email": user.email, "role": user.role }),
        )
        .await?;
        Ok(user.into())
    }

    /// Changes a user's role (admins signed in as a user, not their own role). The user's
    /// sessions end: they sign in again under the new role.
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] id: ID,
        #[graphql(desc = "The new role.")] role: Role,
    ) -> async_graphql::Result<User> {
        let c = user_admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "user")?;
        if id == c.user_id {
            return Err(AppError::bad_input("you cannot change your own role").into());
        }
        let user = store::users::set_role(&st.db, c.account_id, id, role.into()).await?;
        st.principals.forget_user(id);
        store::audit::record(
            &st.db,
            c,
            "user.role",
            Some(("user", id.to_string())),
            serde_json::json!({ "role": user.role }),
        )
        .await?;
        Ok(user.into())
    }

    /// Deletes a user of the caller's account (admins signed in as a user, not
    /// themselves); their sessions stop working at once. Answers the user as it was.
    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to delete, in the caller's account.")] id: ID,
    ) -> async_graphql::Result<User> {
        let c = user_admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "user")?;
        if id == c.user_id {
            return Err(AppError::bad_input("you cannot delete yourself").into());
        }
        let user = store::users::delete(&st.db, c.account_id, id).await?;
        st.principals.forget_user(id);
        store::audit::record(
            &st.db,
            c,
            "user.delete",
            Some(("user", id.to_string())),
            serde_json::json!({ "email": user.email, "role": user.role }),
        )
        .await?;
        Ok(user.into())
    }

    /// Changes the signed-in user's password (same rule as `createUser`). Every session of
    /// the user ends, this one included; the answer carries a new session token.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password the user signs in with now.")] current_password: String,
        #[graphql(desc = "At least 12 characters, not easy to guess.")] new_password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let c = signed_in_user(ctx)?;
        let ip = ctx.data_opt::<ClientIp>().map(|c| c.0);
        let s = session::change_password(state(ctx), c, current_password, new_password, ip).await?;
        Ok(LoginPayload {
            token: s.token,
            expires_at: s.expires_at,
            user: s.user.into(),
        })
    }

    /// Ends every session of a user at once, on every device: the signed-in user's own
    /// (this one included), or, for admins, another user's of the account.
    async fn sign_out_everywhere(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Another user of the account (admins only); default: yourself.")]
        user_id: Option<ID>,
    ) -> async_graphql::Result<bool> {
        let c = signed_in_user(ctx)?;
        let st = state(ctx);
        let target = match &user_id {
            Some(id) => parse_id(id, "user")?,
            None => c.user_id,
        };
        if target != c.user_id {
            caller(ctx)?.require_admin()?;
        }
        store::users::bump_token_version(&st.db, c.account_id, target).await?;
        st.principals.forget_user(target);
        store::audit::record(
            &st.db,
            c,
            "user.sign_out_everywhere",
            Some(("user", target.to_string())),
            serde_json::json!({}),
        )
        .await?;
        Ok(true)
    }
}
