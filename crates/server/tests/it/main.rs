//! Tessera over HTTP: one integration-test binary (linking is the slow step on two cores),
//! with a module per area. Every test runs against SQLite, and against PostgreSQL when
//! `TESSERA_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod abuse;
mod activity;
mod adding_methods;
mod admin;
mod admin_input;
mod admin_pages;
mod api_security_info;
mod api_sign_in;
mod app_passwords;
mod authenticator_web;
mod code_fields;
mod common;
mod default_way;
mod email;
mod forward_auth;
mod forward_auth_admin;
mod gateway;
mod import;
mod language;
mod oidc;
mod oidc_admin;
mod oidc_errors;
mod oidc_logout;
mod oidc_pages;
mod oidc_phishing_resistant;
mod oidc_prompts;
mod openapi;
mod ops;
mod outbox_pages;
mod password_guesses;
mod phone;
mod phone_pages;
mod policy;
mod policy_page;
mod push;
mod push_pages;
mod radius;
mod radius_admin;
mod radius_tools;
mod recovery_codes;
mod registration_takeover;
mod registration_wizard;
mod reset;
mod reset_abuse;
mod reset_gates;
mod reset_web;
mod security_questions;
mod temporary_access_pass;
mod verify_api;
mod web;
mod web_push;
mod web_push_service;
mod webauthn;
