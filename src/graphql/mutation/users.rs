use crate::auth::password;
use crate::graphql::types::enums::Role;
use crate::graphql::types::user::User;
use crate::graphql::{admin, parse_id, state};
use crate::store;
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Adds a user to the caller's account (admins only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Sign-in email.")] email: String,
        #[graphql(desc = "Initial password.")] password: String,
        #[graphql(desc = "What the user may do.")] role: Role,
    ) -> async_graphql::Result<User> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let hash = password::hash(password).await?;
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

    /// Changes another user's role in your account (admins only; not your own).
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] id: ID,
        #[graphql(desc = "The new role.")] role: Role,
    ) -> async_graphql::Result<User> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "user")?;
        if id == c.user_id {
            return Err(
                crate::error::AppError::bad_input("you cannot change your own role").into(),
            );
        }
        let user = store::users::set_role(&st.db, c.account_id, id, role.into()).await?;
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
}
