//! Who is looking (SAFETY.md §1): the top bar's account menu, and whether this visitor may use
//! an action. The server enforces every role; this only keeps the page from offering buttons
//! that would be refused.

use leptos::prelude::*;

use crate::domain::{Role, Visitor};
use crate::serverfns::account::load_visitor;

#[derive(Clone, Copy)]
struct VisitorResource(Resource<Result<Visitor, crate::domain::ApiError>>);

/// Called once by the app: loads the visitor for every page.
pub fn provide_visitor() {
    provide_context(VisitorResource(Resource::new(|| (), |_| load_visitor())));
}

/// The visitor, once loaded: pages wait for it with their own data (see `loaded`), so the
/// first HTML and the hydrated page offer the same buttons.
pub fn loading() -> Option<impl std::future::Future<Output = ()>> {
    let VisitorResource(resource) = use_context::<VisitorResource>()?;
    Some(async move {
        let _ = resource.await;
    })
}

/// Whether the visitor's role allows `needed`. Read inside a page's `Suspense`, so the server
/// waits for it and the first HTML already has the right buttons disabled.
pub fn may(needed: Role) -> Signal<bool> {
    let resource = use_context::<VisitorResource>();
    Signal::derive(move || match resource {
        Some(VisitorResource(resource)) => resource.get().and_then(Result::ok).is_some_and(|visitor| visitor.may(needed)),
        None => true,
    })
}

/// The title a disabled action shows, saying why.
pub fn needs(role: Role) -> String {
    format!("Your account cannot do this: it needs the {role} role")
}

/// Name, role and "Log out" in the top bar (nothing with accounts off).
#[component]
pub fn AccountMenu() -> impl IntoView {
    let resource = use_context::<VisitorResource>();
    let menu = move || {
        let visitor = resource?.0.get()?.ok()?;
        let name = visitor.name.clone()?;
        let role = visitor.role.map(|r| r.to_string()).unwrap_or_default();
        let admin = visitor.may(Role::Admin);
        Some(view! {
            <span class="account" data-testid="account">
                {admin.then(|| view! { <a href="/admin">"Accounts"</a> })}
                <span class="who">{name}" · "{role}</span>
                <form method="post" action="/logout" class="inline">
                    <button type="submit" class="link">"Log out"</button>
                </form>
            </span>
        })
    };
    view! { <Transition fallback=|| ()>{menu}</Transition> }
}
