//! `gusu user` and `gusu audit`: accounts and the audit log, for the operator at the server's
//! console (who is trusted; the web platform checks roles instead). Every change is audited with
//! the operator as `cli:<login>`.

use std::io::BufRead;

use gusu_core::{PasswordPolicy, Role, Uscc};
use rand::RngExt;

use super::Context;
use crate::cli::{AuditArgs, RoleArg, TokenAction, TokenArgs, UserAction, UserArgs};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;

fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::CityAdmin => Role::CityAdmin,
        RoleArg::CityAnalyst => Role::CityAnalyst,
        RoleArg::DistrictOfficer => Role::DistrictOfficer,
        RoleArg::Enterprise => Role::Enterprise,
        RoleArg::SystemAdmin => Role::SystemAdmin,
        RoleArg::SecurityAdmin => Role::SecurityAdmin,
        RoleArg::AuditAdmin => Role::AuditAdmin,
    }
}

pub fn operator() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    )
}

/// A password from standard input (checked against the policy), or a new random one that meets it.
fn password(
    policy: &PasswordPolicy,
    lang: Lang,
    user: &str,
    from_stdin: bool,
) -> Result<(String, bool), Failure> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(e.to_string()))?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        policy.check(user, &password).map_err(|e| {
            Failure::usage(format!(
                "{}: {e}",
                lang.t("密码不符合要求", "the password does not meet the policy")
            ))
        })?;
        return Ok((password, false));
    }
    // 20 characters (or more, if the policy asks) from four classes, no look-alikes; re-drawn
    // until it meets the policy.
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_!@#%";
    let length = policy.min_length.max(20);
    let mut rng = rand::rng();
    loop {
        let candidate: String = (0..length)
            .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
            .collect();
        if policy.check(user, &candidate).is_ok() {
            return Ok((candidate, true));
        }
    }
}

pub fn user(ctx: &Context, args: UserArgs) -> CmdResult {
    let lang = ctx.lang;
    let mut store = ctx.open_store()?;
    let failed = |e: gusu_store::StoreError| Failure::usage(e.to_string());
    match args.action {
        UserAction::Add {
            name,
            role: r,
            district,
            uscc,
            password_stdin,
        } => {
            let district = ctx.district(district.as_deref())?;
            let uscc = match uscc {
                None => None,
                Some(u) => Some(Uscc::parse(&u).map_err(|e| Failure::usage(format!("{u}: {e}")))?),
            };
            let (password, made) = password(&ctx.config.password, lang, &name, password_stdin)?;
            store
                .create_account(
                    &operator(),
                    &name,
                    role(r),
                    district.as_deref(),
                    uscc,
                    &password,
                )
                .map_err(failed)?;
            println!(
                "{} {name} ({})",
                lang.t("已新增账号", "account added:"),
                role(r).key()
            );
            if made {
                println!(
                    "{} {password}",
                    lang.t(
                        "初始密码（只显示这一次）：",
                        "initial password (shown once):"
                    )
                );
            }
        }
        UserAction::List => {
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header([
                "username",
                "role",
                "district",
                "uscc",
                "disabled",
                "password_changed_at",
            ]);
            for a in store.accounts().map_err(failed)? {
                t.add_row([
                    a.username,
                    a.role.key().to_string(),
                    a.district.unwrap_or_default(),
                    a.uscc.map(|u| u.to_string()).unwrap_or_default(),
                    a.disabled.to_string(),
                    a.password_changed_at,
                ]);
            }
            println!("{t}");
        }
        UserAction::Disable { name } => {
            store
                .set_account_disabled(&operator(), &name, true)
                .map_err(failed)?;
            println!("{} {name}", lang.t("已停用", "disabled:"));
        }
        UserAction::Enable { name } => {
            store
                .set_account_disabled(&operator(), &name, false)
                .map_err(failed)?;
            println!("{} {name}", lang.t("已启用", "enabled:"));
        }
        UserAction::ResetPassword {
            name,
            password_stdin,
        } => {
            let (password, made) = password(&ctx.config.password, lang, &name, password_stdin)?;
            store
                .reset_password(&operator(), &name, &password)
                .map_err(failed)?;
            println!("{} {name}", lang.t("已重置密码：", "password reset:"));
            if made {
                println!(
                    "{} {password}",
                    lang.t("新密码（只显示这一次）：", "new password (shown once):")
                );
            }
        }
        UserAction::Totp { name, remove } => {
            use gusu_web::second_factor;
            if remove {
                store
                    .set_totp_secret(&operator(), &name, None)
                    .map_err(failed)?;
                println!(
                    "{} {name}",
                    lang.t("已解除动态验证码：", "second factor removed:")
                );
                return Ok(());
            }
            let secret = second_factor::new_secret();
            store
                .set_totp_secret(&operator(), &name, Some(&secret))
                .map_err(failed)?;
            println!(
                "{} {name}",
                lang.t("已绑定动态验证码：", "second factor enrolled:")
            );
            println!(
                "{} {}",
                lang.t("密钥（只显示这一次）：", "secret (shown once):"),
                second_factor::base32(&secret)
            );
            println!(
                "{} {}",
                lang.t("身份验证器链接：", "authenticator URI:"),
                second_factor::otpauth_uri(&name, &secret)
            );
        }
    }
    Ok(())
}

pub fn audit(ctx: &Context, args: AuditArgs) -> CmdResult {
    let store = ctx.open_existing_store()?;
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["id", "at", "actor", "action", "target", "detail"]);
    for e in store
        .audit_log(args.limit)
        .map_err(|e| Failure::data(e.to_string()))?
    {
        t.add_row([
            e.id.to_string(),
            e.at,
            e.actor,
            e.action,
            e.target.unwrap_or_default(),
            e.detail.unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(())
}

pub fn token(ctx: &Context, args: TokenArgs) -> CmdResult {
    let lang = ctx.lang;
    let mut store = ctx.open_existing_store()?;
    let failed = |e: gusu_store::StoreError| Failure::usage(e.to_string());
    match args.action {
        TokenAction::Create { user, name, days } => {
            let (token, hashed) = gusu_web::session::new_api_token();
            store
                .add_api_token(&operator(), &user, &name, &hashed, days)
                .map_err(failed)?;
            println!(
                "{} {token}",
                lang.t("令牌（只显示这一次）：", "token (shown once):")
            );
            println!("{} Authorization: Bearer …", lang.t("用法：", "use:"));
        }
        TokenAction::List { user } => {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            for t in store.api_tokens(&user).map_err(failed)? {
                let expired = t.expires_at.as_deref().is_some_and(|at| at <= now.as_str());
                println!(
                    "{}\t{}\t{}\t{}",
                    t.name,
                    t.created_at,
                    t.expires_at.as_deref().unwrap_or("-"),
                    if t.revoked {
                        lang.t("已吊销", "revoked")
                    } else if expired {
                        lang.t("已过期", "expired")
                    } else {
                        lang.t("有效", "active")
                    }
                );
            }
        }
        TokenAction::Revoke { user, name } => {
            store
                .revoke_api_token(&operator(), &user, &name)
                .map_err(failed)?;
            println!("{} {user}/{name}", lang.t("已吊销", "revoked:"));
        }
    }
    Ok(())
}
