//! `/openapi.json`: the JSON API described in OpenAPI 3.1, generated from the handlers' own
//! annotations and the types they answer with, and fitted to this server's settings (the auth
//! mode, the session cookie's name).

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{SecurityRequirement, server::Server};

use crate::auth::Auth;
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "todomvc",
        description = "The TodoMVC JSON API, as Backbone.sync and Todo-Backend clients use it: \
            a caller's list of todos, live updates, and API tokens. Errors are JSON \
            `{\"error\": ...}` with the status that fits. Writes take `If-Match` (a todo's \
            `ETag`) and `Idempotency-Key`.",
    ),
    paths(
        super::todos::list,
        super::todos::create,
        super::todos::delete_all,
        super::todos::get,
        super::todos::update,
        super::todos::delete,
        super::order::move_todo,
        super::events::stream,
        super::lists::index,
        super::lists::create,
        super::lists::show,
        super::lists::rename,
        super::lists::delete,
        super::lists::members,
        super::lists::put_member,
        super::lists::remove_member,
        super::tokens::list,
        super::tokens::create,
        super::tokens::revoke,
        crate::drain::healthz,
        crate::drain::readyz,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "todos", description = "The caller's default list; each list's todos answer the \
            same under `/lists/{list}/todos/`."),
        (name = "lists", description = "The caller's lists, and who is on them."),
        (name = "tokens", description = "API tokens, for `Authorization: Bearer` (accounts mode)."),
        (name = "operations", description = "Health, for load balancers."),
    )
)]
struct ApiDoc;

/// The description of this server's API: with accounts, each route needs the session cookie
/// (named `cookie`) or an API token; in open mode, nothing, and there are no API tokens.
pub fn document(auth: &Auth, base: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![Server::new(base)]);
    add_list_todos(&mut doc);
    if !auth.accounts() {
        // No accounts, no API tokens: those routes answer 404.
        doc.paths
            .paths
            .retain(|path, _| !path.starts_with("/tokens"));
        return doc;
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            auth.cookie_name(),
            "The session cookie that signing in sets (`/login`). Writes with it must come \
             from this site's own pages.",
        ))),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token from `POST /tokens` or the command line \
                     (`todomvc tokens create`).",
                ))
                .build(),
        ),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("cookie", Vec::<String>::new()),
        SecurityRequirement::new("bearer", Vec::<String>::new()),
    ]);
    doc
}

/// Each list's todos and live stream answer exactly as the default list's: the `/todos` paths are
/// described again under `/lists/{list}`, with the list's id as one more parameter.
fn add_list_todos(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
    let list = || -> Parameter {
        ParameterBuilder::new()
            .name("list")
            .parameter_in(ParameterIn::Path)
            .required(utoipa::openapi::Required::True)
            .description(Some("The list's id."))
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int32,
                    ))),
            ))
            .build()
    };
    let copies: Vec<(String, utoipa::openapi::PathItem)> = doc
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let under = match path.as_str() {
                "/todos/events" => "/lists/{list}/events".to_owned(),
                todos if todos.starts_with("/todos") => format!("/lists/{{list}}{todos}"),
                _ => return None,
            };
            let mut item = item.clone();
            for operation in [
                &mut item.get,
                &mut item.head,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .insert(0, list());
                if let Some(id) = &operation.operation_id {
                    operation.operation_id = Some(format!("list_{id}"));
                }
            }
            Some((under, item))
        })
        .collect();
    doc.paths.paths.extend(copies);
}

/// `GET /openapi.json`.
pub async fn serve(req: actix_web::HttpRequest, auth: web::Data<Auth>) -> HttpResponse {
    let origin = crate::proxy::origin(&req);
    let base = format!("{}://{}", origin.scheme, origin.host);
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(document(&auth, &base))
}
