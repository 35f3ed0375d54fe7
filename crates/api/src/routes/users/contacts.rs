//! Verifying and removing a user's emails and phone numbers.

use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ErrorBody};
use crate::extract::{ApiJsonOrEmpty, ApiPath};
use axum::http::StatusCode;
use roster_core::time::now_ms;
use roster_core::user::{Email, EmailKey, PhoneNumber, User, UserId, VerifyInput};
use roster_core::Error;

type Edit = Authorized<rules::UsersEdit>;

async fn change<F>(auth: &Edit, user_id: String, f: F) -> ApiResult<()>
where
    F: FnOnce(&mut User) -> Result<(), Error> + Send,
{
    auth.store
        .update_user(&auth.scope, &UserId::from_string(user_id), |user, _| {
            f(user)
        })
        .await
        .map_err(ApiError::taken_as_bad_request)?;
    Ok(())
}

fn email_of(raw: &str) -> Result<EmailKey, ApiError> {
    Email::parse("email", raw)
        .map(|e| e.key())
        .map_err(ApiError::bad_request)
}

fn phone_of(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse("phone_number", raw).map_err(ApiError::bad_request)
}

/// Verify user email
///
/// Marks a primary or secondary email verified; with `change_to_primary`, a secondary one
/// becomes the primary. The body may be left out.
#[utoipa::path(post, path = "/cis/v1/users/{user_id}/emails/{email}/verify", operation_id = "verifyUserEmail", tag = "Users",
    params(("user_id" = String, Path), ("email" = String, Path)),
    request_body(content = Option<VerifyInput>, content_type = "application/json"),
    responses(
        (status = 202, description = "Verified"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn verify_email(
    auth: Edit,
    ApiPath((user_id, email)): ApiPath<(String, String)>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<VerifyInput>,
) -> ApiResult<StatusCode> {
    // The verify routes document only 202 and 404: what cannot be an email matches nothing.
    let key =
        email_of(&email).map_err(|_| ApiError::NotFound("Email not found for this user".into()))?;
    let to_primary = body.change_to_primary.unwrap_or(false);
    change(&auth, user_id, move |u| {
        u.verify_email(&key, to_primary, now_ms())
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Verify user phone number
#[utoipa::path(post, path = "/cis/v1/users/{user_id}/phone-numbers/{phone_number}/verify", operation_id = "verifyUserPhoneNumber", tag = "Users",
    params(("user_id" = String, Path), ("phone_number" = String, Path)),
    request_body(content = Option<VerifyInput>, content_type = "application/json"),
    responses(
        (status = 202, description = "Verified"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn verify_phone(
    auth: Edit,
    ApiPath((user_id, phone)): ApiPath<(String, String)>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<VerifyInput>,
) -> ApiResult<StatusCode> {
    let phone = phone_of(&phone)
        .map_err(|_| ApiError::NotFound("Phone number not found for this user".into()))?;
    let to_primary = body.change_to_primary.unwrap_or(false);
    change(&auth, user_id, move |u| {
        u.verify_phone(&phone, to_primary, now_ms())
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Remove secondary email
///
/// Secondary emails only: the primary email is a 400.
#[utoipa::path(delete, path = "/cis/v1/users/{user_id}/emails/{email}", operation_id = "removeUserSecondaryEmail", tag = "Users",
    params(("user_id" = String, Path), ("email" = String, Path)),
    responses(
        (status = 204, description = "Removed"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn remove_email(
    auth: Edit,
    ApiPath((user_id, email)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let key = email_of(&email)?;
    change(&auth, user_id, move |u| {
        u.remove_secondary_email(&key, now_ms())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove secondary phone number
///
/// Secondary numbers only: the primary number is a 400.
#[utoipa::path(delete, path = "/cis/v1/users/{user_id}/phone-numbers/{phone_number}", operation_id = "removeUserSecondaryPhoneNumber", tag = "Users",
    params(("user_id" = String, Path), ("phone_number" = String, Path)),
    responses(
        (status = 204, description = "Removed"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn remove_phone(
    auth: Edit,
    ApiPath((user_id, phone)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let phone = phone_of(&phone)?;
    change(&auth, user_id, move |u| {
        u.remove_secondary_phone(&phone, now_ms())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
