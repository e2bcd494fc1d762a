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

use cradle_index::{Filter, SearchRequest};
use cradle_query::{Data, DataSlot, FilterSpec, Mode, ProductQuery, QueryError};
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
pub use cradle_query::ops::{DEFAULT_MAX_ROWS, MAX_ROWS};

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
        tracing::error!(error = %cradle_query::chain(error), "{context}");
        ToolFailure::new(
            "internal",
            format!("{context}; the server log has the cause"),
        )
    }

    /// A query failure: the requester's mistakes keep their code and
    /// message (the same the HTTP API answers), faults are logged.
    fn from_query(error: QueryError) -> ToolFailure {
        match error {
            QueryError::BadRequest { code, message }
            | QueryError::NotFound { code, message }
            | QueryError::TooLarge { code, message }
            | QueryError::Busy { code, message } => ToolFailure::new(code, message),
            QueryError::NotReady => ToolFailure::new(
                "not_ready",
                "the server is still opening its data; retry shortly",
            ),
            QueryError::Internal { context, source } => {
                ToolFailure::internal(context, source.as_ref())
            }
        }
    }

    fn into_result(self) -> CallToolResult {
        CallToolResult::structured_error(json!({
            "error": {"code": self.code, "message": self.message}
        }))
    }
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
    cradle_query::ops::within(name, value.unwrap_or(default), range)
        .map_err(ToolFailure::from_query)
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
    pub filters: Vec<FilterSpec>,
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
    data: Arc<DataSlot>,
    tool_router: ToolRouter<CradleMcp>,
}

impl CradleMcp {
    /// A server reading the data in `data`, which may still be opening
    /// (the console's slot).
    pub fn for_slot(data: Arc<DataSlot>) -> CradleMcp {
        CradleMcp {
            data,
            tool_router: CradleMcp::tool_router(),
        }
    }

    /// A server over data that is already open (stdio).
    pub fn for_data(data: Data) -> CradleMcp {
        CradleMcp::for_slot(Arc::new(DataSlot::ready(data)))
    }

    fn data(&self) -> Result<Arc<Data>, ToolFailure> {
        self.data.get().map_err(ToolFailure::from_query)
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
        let response = data
            .search(request, mode)
            .await
            .map_err(ToolFailure::from_query)?;
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
                    "etim_class_source": hit.etim_class_source,
                    "matched": hit.matched,
                })
            })
            .collect();
        Ok(json!({"total": response.total, "hits": hits}))
    }

    async fn product(&self, article_no: &str) -> Result<Value, ToolFailure> {
        let data = self.data()?;
        data.product(article_no).await.map_err(|error| match error {
            QueryError::NotFound { code, message } => ToolFailure::new(
                code,
                format!("{message}; search_products finds article numbers"),
            ),
            other => ToolFailure::from_query(other),
        })
    }

    async fn page(&self, input: FilterProductsInput) -> Result<Value, ToolFailure> {
        let query = ProductQuery {
            family: input.family,
            brand: input.brand,
            etim_class: input.etim_class,
            limit: within("limit", input.limit, DEFAULT_LIMIT, 1..=MAX_LIMIT)?,
            offset: within("offset", input.offset, 0, 0..=MAX_OFFSET)?,
            ..ProductQuery::default()
        };
        let data = self.data()?;
        data.products(&query).await.map_err(ToolFailure::from_query)
    }

    async fn sql(&self, input: RunSqlInput) -> Result<Value, ToolFailure> {
        let max_rows = within("max_rows", input.max_rows, DEFAULT_MAX_ROWS, 1..=MAX_ROWS)?;
        let data = self.data()?;
        let answer = data
            .sql(&input.query, max_rows)
            .await
            .map_err(ToolFailure::from_query)?;
        serde_json::to_value(answer)
            .map_err(|error| ToolFailure::internal("cannot encode the SQL answer", &error))
    }

    async fn counts(&self, key: &str) -> Result<Value, ToolFailure> {
        let data = self.data()?;
        let counts = if key == "classes" {
            data.classes().await
        } else {
            data.families().await
        };
        let counts = counts.map_err(ToolFailure::from_query)?;
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
