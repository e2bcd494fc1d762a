//! The MCP server itself: six read-only tools over the console's data
//! (search index and product store), whichever transport carries them.
//!
//! Tool failures the caller should see (a bad filter, an unknown article
//! number, SQL that is not read-only, data not open yet) are tool results
//! with `isError: true` and the body `{"error": {"code", "message"}}`,
//! the same stable codes the console's HTTP API answers with. Faults of
//! the server are logged with their cause and reported as `internal`
//! without it.

use std::sync::Arc;

use cradle_console::search::Mode;
use cradle_console::{AppError, AppState, Data, ProductQuery, StoreError};
use cradle_index::{Filter, SearchRequest};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The most hits or products one call returns.
pub const MAX_LIMIT: usize = 100;
/// How deep paging may go.
pub const MAX_OFFSET: usize = 10_000;
/// Hits or products returned when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 10;
/// Rows returned by `run_sql` when `max_rows` is not given.
pub const DEFAULT_MAX_ROWS: usize = 100;
/// The most rows `run_sql` returns.
pub const MAX_ROWS: usize = 10_000;

/// What the server tells clients (and their models) about itself.
const INSTRUCTIONS: &str = "\
Cradle serves one customer's product catalogue: the products of their latest \
published delivery (article numbers, names, families, brands, series, ETIM \
classes, GTINs) and their attributes, each attribute with its provenance (source \
file, sheet, row, column, original value). Everything is read-only.

Tools:
- search_products: full-text search (words, article numbers, GTINs; German and \
English), with exact filters (family, brand, series, etim_class) and attribute \
filters (equality, numeric range with unit, yes/no). Each hit says why it matched.
- get_product: one product by article number, with all attributes and provenance.
- filter_products: a page of products by family, brand and/or ETIM class.
- list_families, list_classes: the families and ETIM classes with product counts; \
use them to find exact filter values.
- run_sql: one read-only SQL statement (SQLite dialect) against the catalogue; \
`SELECT name FROM sqlite_master WHERE type = 'table'` lists the tables.

Failures are tool results with isError and {\"error\": {\"code\", \"message\"}}; \
the code `not_ready` means the server is still opening its data: retry shortly.";

/// Where the tools read the data from.
#[derive(Debug, Clone)]
enum Source {
    /// The console's state: the data opens in the background, so it is
    /// looked up on every call.
    Console(AppState),
    /// Data opened before serving (stdio).
    Open(Arc<Data>),
}

/// A failure of a tool, answered as a tool result with `isError: true`.
#[derive(Debug)]
struct ToolFailure {
    code: &'static str,
    message: String,
}

impl ToolFailure {
    fn new(code: &'static str, message: impl Into<String>) -> ToolFailure {
        ToolFailure {
            code,
            message: message.into(),
        }
    }

    /// A fault of the server: logged with its cause, reported without.
    fn internal(context: &str, error: &dyn std::error::Error) -> ToolFailure {
        tracing::error!(error = %chain(error), "{context}");
        ToolFailure::new(
            "internal",
            format!("{context}; the server log has the cause"),
        )
    }

    fn from_store(context: &str, error: StoreError) -> ToolFailure {
        match error {
            StoreError::Request { code, message } => ToolFailure::new(code, message),
            internal @ StoreError::Internal { .. } => ToolFailure::internal(context, &internal),
        }
    }

    fn into_result(self) -> CallToolResult {
        CallToolResult::structured_error(json!({
            "error": {"code": self.code, "message": self.message}
        }))
    }
}

/// The error and its sources, `: `-separated, for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn answer(result: Result<Value, ToolFailure>) -> Result<CallToolResult, ErrorData> {
    Ok(match result {
        Ok(value) => CallToolResult::structured(value),
        Err(failure) => failure.into_result(),
    })
}

fn within(
    name: &str,
    value: Option<usize>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ToolFailure> {
    let value = value.unwrap_or(default);
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ToolFailure::new(
            "invalid_parameter",
            format!(
                "{name} must be from {} to {}, got {value}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// A condition every hit must meet.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FilterInput {
    /// `field` equals `value`. Fields: family, brand, series, etim_class,
    /// article_no, gtin, or an attribute name such as `Leistung` (case and
    /// umlaut spelling do not matter; numbers compare as numbers).
    Equals { field: String, value: String },
    /// A numeric attribute between `min` and `max` inclusive (either may be
    /// left out), in `unit` if given, as delivered ("W", "lm", "K").
    Range {
        field: String,
        min: Option<f64>,
        max: Option<f64>,
        unit: Option<String>,
    },
    /// A yes/no attribute, e.g. `Dimmbar` = true.
    Bool { field: String, value: bool },
}

impl From<FilterInput> for Filter {
    fn from(input: FilterInput) -> Filter {
        match input {
            FilterInput::Equals { field, value } => Filter::Equals { field, value },
            FilterInput::Range {
                field,
                min,
                max,
                unit,
            } => Filter::Range {
                field,
                min,
                max,
                unit,
            },
            FilterInput::Bool { field, value } => Filter::Bool { field, value },
        }
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
pub struct SearchProductsInput {
    /// What to look for: words (German or English), an article number or
    /// its beginning, a GTIN. Empty lists everything that passes the filters.
    #[serde(default)]
    pub query: String,
    /// Only this product family (exact; see list_families).
    pub family: Option<String>,
    /// Only this brand (exact).
    pub brand: Option<String>,
    /// Only this series (exact).
    pub series: Option<String>,
    /// Only this ETIM class, e.g. EC001744 (exact; see list_classes).
    pub etim_class: Option<String>,
    /// Further conditions, all of which must hold.
    #[serde(default)]
    pub filters: Vec<FilterInput>,
    /// Hits to return, 1 to 100 (default 10).
    pub limit: Option<usize>,
    /// Hits to skip, for paging (default 0, at most 10000).
    pub offset: Option<usize>,
    /// `keyword` (default: words, article numbers, GTINs), `vector`
    /// (meaning, by embeddings) or `hybrid` (both, fused).
    pub mode: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
pub struct GetProductInput {
    /// The article number, exactly as delivered (e.g. LW-100234).
    pub article_no: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
pub struct FilterProductsInput {
    /// Only this product family (exact; see list_families).
    pub family: Option<String>,
    /// Only this brand (exact).
    pub brand: Option<String>,
    /// Only this ETIM class, e.g. EC001744 (exact; see list_classes).
    pub etim_class: Option<String>,
    /// Products to return, 1 to 100 (default 10).
    pub limit: Option<usize>,
    /// Products to skip, for paging (default 0, at most 10000).
    pub offset: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
pub struct RunSqlInput {
    /// One read-only statement in the SQLite dialect, e.g.
    /// `SELECT family, count(*) FROM products GROUP BY family`.
    pub query: String,
    /// The most rows to return, 1 to 10000 (default 100); `truncated` says
    /// whether more were left out.
    pub max_rows: Option<usize>,
}

/// The MCP server over one customer's data. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CradleMcp {
    source: Source,
    tool_router: ToolRouter<CradleMcp>,
}

impl CradleMcp {
    /// A server reading the console's data, which may not be open yet.
    pub fn for_console(state: AppState) -> CradleMcp {
        CradleMcp {
            source: Source::Console(state),
            tool_router: CradleMcp::tool_router(),
        }
    }

    /// A server over data that is already open.
    pub fn for_data(data: Arc<Data>) -> CradleMcp {
        CradleMcp {
            source: Source::Open(data),
            tool_router: CradleMcp::tool_router(),
        }
    }

    fn data(&self) -> Result<Arc<Data>, ToolFailure> {
        match &self.source {
            Source::Open(data) => Ok(data.clone()),
            Source::Console(state) => state.data().map_err(|_| {
                ToolFailure::new(
                    "not_ready",
                    "the server is still opening its data; retry shortly",
                )
            }),
        }
    }

    async fn search(&self, input: SearchProductsInput) -> Result<Value, ToolFailure> {
        let mut request = SearchRequest {
            query: input.query,
            limit: within("limit", input.limit, DEFAULT_LIMIT, 1..=MAX_LIMIT)?,
            offset: within("offset", input.offset, 0, 0..=MAX_OFFSET)?,
            ..SearchRequest::default()
        };
        for (field, value) in [
            ("family", input.family),
            ("brand", input.brand),
            ("series", input.series),
            ("etim_class", input.etim_class),
        ] {
            if let Some(value) = value {
                request.filters.push(Filter::Equals {
                    field: field.to_owned(),
                    value,
                });
            }
        }
        request
            .filters
            .extend(input.filters.into_iter().map(Filter::from));
        let mode = match input.mode.as_deref() {
            None => Mode::Keyword,
            Some(text) => Mode::parse(text).ok_or_else(|| {
                ToolFailure::new(
                    "invalid_parameter",
                    format!("mode: expected keyword, vector or hybrid, got {text:?}"),
                )
            })?,
        };
        let data = self.data()?;
        let response = cradle_console::search::run(&data, request, mode)
            .await
            .map_err(|error| match error {
                AppError::BadRequest { code, message } => ToolFailure::new(code, message),
                error => ToolFailure::internal("the search failed", &error),
            })?;
        let hits: Vec<Value> = response
            .hits
            .into_iter()
            .map(|hit| {
                json!({
                    "article_no": hit.article_no,
                    "name": hit.name,
                    "score": hit.score,
                    "family": hit.family,
                    "brand": hit.brand,
                    "etim_class": hit.etim_class,
                    "matched": hit.matched,
                })
            })
            .collect();
        Ok(json!({"total": response.total, "hits": hits}))
    }

    async fn product(&self, article_no: &str) -> Result<Value, ToolFailure> {
        let data = self.data()?;
        match data.store().product(article_no).await {
            Ok(Some(product)) => Ok(product),
            Ok(None) => Err(ToolFailure::new(
                "not_found",
                format!(
                    "no product with the article number {article_no:?}; search_products finds article numbers"
                ),
            )),
            Err(error) => Err(ToolFailure::from_store("cannot read the product", error)),
        }
    }

    async fn page(&self, input: FilterProductsInput) -> Result<Value, ToolFailure> {
        let query = ProductQuery {
            family: input.family,
            brand: input.brand,
            etim_class: input.etim_class,
            limit: within("limit", input.limit, DEFAULT_LIMIT, 1..=MAX_LIMIT)?,
            offset: within("offset", input.offset, 0, 0..=MAX_OFFSET)?,
        };
        let data = self.data()?;
        data.store()
            .products(&query)
            .await
            .map_err(|error| ToolFailure::from_store("cannot list the products", error))
    }

    async fn sql(&self, input: RunSqlInput) -> Result<Value, ToolFailure> {
        let max_rows = within("max_rows", input.max_rows, DEFAULT_MAX_ROWS, 1..=MAX_ROWS)?;
        let data = self.data()?;
        let answer = data
            .store()
            .sql(&input.query, max_rows)
            .await
            .map_err(|error| ToolFailure::from_store("the SQL query failed", error))?;
        serde_json::to_value(answer)
            .map_err(|error| ToolFailure::internal("cannot encode the SQL answer", &error))
    }

    async fn counts(&self, key: &str) -> Result<Value, ToolFailure> {
        let data = self.data()?;
        let store = data.store();
        let counts = if key == "classes" {
            store.classes().await
        } else {
            store.families().await
        };
        let counts =
            counts.map_err(|error| ToolFailure::from_store("cannot count products", error))?;
        Ok(json!({ key: counts }))
    }
}

#[tool_router]
impl CradleMcp {
    #[tool(
        description = "Search the product catalogue by words, article numbers or GTINs, with optional exact and attribute filters. Returns the total and one page of hits: article_no, name, score, family, brand, etim_class and `matched` (the fields the query matched in).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_products(
        &self,
        Parameters(input): Parameters<SearchProductsInput>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(self.search(input).await)
    }

    #[tool(
        description = "One product by article number: all its fields and attributes, each attribute with its provenance (source file, sheet, row, column, original value).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_product(
        &self,
        Parameters(input): Parameters<GetProductInput>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(self.product(&input.article_no).await)
    }

    #[tool(
        description = "A page of products with the given family, brand and/or ETIM class (exact values): {items, total, limit, offset}.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn filter_products(
        &self,
        Parameters(input): Parameters<FilterProductsInput>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(self.page(input).await)
    }

    #[tool(
        description = "Run one read-only SQL statement (SQLite dialect) against the product catalogue. Returns {columns, rows, truncated, elapsed_ms}. Statements that write, several statements, syntax errors and timeouts are tool errors with a stable code.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn run_sql(
        &self,
        Parameters(input): Parameters<RunSqlInput>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(self.sql(input).await)
    }

    #[tool(
        description = "The ETIM classes of the catalogue with their product counts, most products first: {classes: [{name, products}]}.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_classes(&self) -> Result<CallToolResult, ErrorData> {
        answer(self.counts("classes").await)
    }

    #[tool(
        description = "The product families of the catalogue with their product counts, most products first: {families: [{name, products}]}.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_families(&self) -> Result<CallToolResult, ErrorData> {
        answer(self.counts("families").await)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CradleMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("cradle", env!("CARGO_PKG_VERSION"))
                    .with_title("Cradle product catalogue"),
            )
            .with_instructions(INSTRUCTIONS)
    }
}
