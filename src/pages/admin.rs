use leptos::prelude::*;

use crate::components::{loaded, ErrorBanner, FormOutcome, TableHead};
use crate::domain::Role;
use crate::serverfns::admin::{load_accounts, AddUser, CreateToken, RemoveUser, RevokeToken};

/// `/admin`: users and API tokens (admins only; the server refuses everyone else).
#[component]
pub fn AdminPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let changes = move || (add.version().get(), remove.version().get(), create.version().get(), revoke.version().get());
    let accounts = Resource::new(changes, |_| load_accounts());
    let refusal = move || {
        [add.value().get().and_then(Result::err), remove.value().get().and_then(Result::err), revoke.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
            .map(|err| view! { <ErrorBanner message=err.error /> })
    };
    // A new token is shown here once; it cannot be shown again.
    let new_token = move || match create.value().get() {
        Some(Ok(token)) => Some(
            view! {
                <p class="notice" data-testid="new-token">
                    "New token (copy it now, it is not shown again): " <code>{token}</code>
                </p>
            }
            .into_any(),
        ),
        Some(Err(err)) => Some(view! { <ErrorBanner message=err.error /> }.into_any()),
        None => None,
    };
    view! {
        <FormOutcome />
        <section class="panel">
            <h1>"Accounts"</h1>
            {refusal}
            {new_token}
            {loaded(accounts, move |data| {
                let users = data.users.clone();
                view! {
                    <h2>"Users"</h2>
                    <table>
                        <TableHead columns=&["Name", "Role", "Since", ""] />
                        <tbody>
                            {users.into_iter().map(|u| {
                                let name = u.name.clone();
                                view! {
                                    <tr data-testid="user-row">
                                        <td>{u.name.clone()}</td>
                                        <td>{u.role.as_str()}</td>
                                        <td>{u.created_at.replace('T', " ")}</td>
                                        <td>
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="name" value=name />
                                                <button type="submit" class="danger">"Remove"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2>"API tokens"</h2>
                    <table>
                        <TableHead columns=&["Token", "User", "Label", "Created", ""] />
                        <tbody>
                            {data.tokens.into_iter().map(|t| {
                                let prefix = t.prefix.clone();
                                view! {
                                    <tr data-testid="token-row">
                                        <td><code>{t.prefix.clone()}"…"</code></td>
                                        <td>{t.user}</td>
                                        <td>{t.label.unwrap_or_default()}</td>
                                        <td>{t.created_at.replace('T', " ")}</td>
                                        <td>
                                            {if t.revoked {
                                                view! { <span class="muted">"revoked"</span> }.into_any()
                                            } else {
                                                view! {
                                                    <ActionForm action=revoke attr:class="inline">
                                                        <input type="hidden" name="prefix" value=prefix />
                                                        <button type="submit" class="danger">"Revoke"</button>
                                                    </ActionForm>
                                                }.into_any()
                                            }}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2>"New API token"</h2>
                    <ActionForm action=create attr:class="stacked">
                        <label>"User "
                            <select name="user">
                                {data.users.iter().map(|u| view! { <option value=u.name.clone()>{u.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Label " <input name="label" placeholder="e.g. analysis notebook" /></label>
                        <button type="submit">"Create token"</button>
                    </ActionForm>
                }
            })}
            <h2>"New user"</h2>
            <ActionForm action=add attr:class="stacked">
                <label>"Name " <input name="name" required autocomplete="off" /></label>
                <label>"Role "
                    <select name="role">
                        {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == Role::Researcher>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Password (10 characters or more) " <input name="password" type="password" required minlength="10" autocomplete="new-password" /></label>
                <button type="submit">"Add user"</button>
            </ActionForm>
        </section>
    }
}
