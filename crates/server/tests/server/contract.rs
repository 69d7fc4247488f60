//! The served OpenAPI document keeps every path, operation id and schema of
//! the original contract, with the same fields, types, defaults and enums.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::Server;

fn original() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/contract/original-openapi.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("contract fixture")).unwrap()
}

/// Resolves a local `$ref` to the schema name it points at.
fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.rsplit('/').next()
}

/// Describes a schema's type as a comparable string, such as `string|null`
/// or `array<ref:References>`, ignoring titles and descriptions.
fn type_of(schema: &Value) -> String {
    if let Some(name) = ref_name(schema) {
        return format!("ref:{name}");
    }
    let mut types: BTreeSet<String> = BTreeSet::new();
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            types.extend(options.iter().map(type_of));
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        types.extend(all.iter().map(type_of));
    }
    let declared: Vec<String> = match schema.get("type") {
        Some(Value::String(kind)) => vec![kind.clone()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    for kind in declared {
        if kind == "array" {
            types.insert(format!(
                "array<{}>",
                schema.get("items").map(type_of).unwrap_or_default()
            ));
        } else {
            types.insert(kind);
        }
    }
    if types.is_empty() {
        "any".into()
    } else {
        types.into_iter().collect::<Vec<_>>().join("|")
    }
}

/// Enum values of a schema, looking through a single-option `oneOf`, `anyOf`
/// or `allOf`, which is how an inlined enum is written.
fn enum_values(schema: &Value) -> Option<BTreeSet<String>> {
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some([only]) = schema.get(key).and_then(Value::as_array).map(Vec::as_slice) {
            return enum_values(only);
        }
    }
    let values = schema.get("enum").and_then(Value::as_array)?;
    Some(values.iter().map(|v| v.to_string()).collect())
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn openapi_keeps_original_contract() {
    let server = Server::start("");
    let served: Value = reqwest::get(server.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let original = original();
    let mut problems = Vec::new();

    for (path, operations) in original["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let ours = &served["paths"][path][method];
            if ours.is_null() {
                problems.push(format!("{} {path} is missing", method.to_uppercase()));
                continue;
            }
            if ours["operationId"] != operation["operationId"] {
                problems.push(format!(
                    "{method} {path}: operationId {} instead of {}",
                    ours["operationId"], operation["operationId"]
                ));
            }
            let params = |op: &Value| -> BTreeSet<String> {
                op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| format!("{}:{}", p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            if params(ours) != params(operation) {
                problems.push(format!(
                    "{method} {path}: parameters {:?} instead of {:?}",
                    params(ours),
                    params(operation)
                ));
            }
        }
    }

    let ours_schemas = &served["components"]["schemas"];
    for (name, schema) in original["components"]["schemas"].as_object().unwrap() {
        let ours = &ours_schemas[name];
        if ours.is_null() {
            problems.push(format!("schema {name} is missing"));
            continue;
        }
        if enum_values(schema) != enum_values(ours) {
            problems.push(format!(
                "schema {name}: enum {:?} instead of {:?}",
                enum_values(ours),
                enum_values(schema)
            ));
        }
        if required(schema) != required(ours) {
            problems.push(format!(
                "schema {name}: required {:?} instead of {:?}",
                required(ours),
                required(schema)
            ));
        }
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        for (field, expected) in properties {
            let actual = &ours["properties"][field];
            if actual.is_null() {
                problems.push(format!("{name}.{field} is missing"));
                continue;
            }
            if type_of(actual) != type_of(expected) {
                problems.push(format!(
                    "{name}.{field}: type {} instead of {}",
                    type_of(actual),
                    type_of(expected)
                ));
            }
            if actual.get("default") != expected.get("default") {
                problems.push(format!(
                    "{name}.{field}: default {:?} instead of {:?}",
                    actual.get("default"),
                    expected.get("default")
                ));
            }
            if enum_values(actual) != enum_values(expected) {
                problems.push(format!(
                    "{name}.{field}: enum {:?} instead of {:?}",
                    enum_values(actual),
                    enum_values(expected)
                ));
            }
            let names = |s: &Value| s["propertyNames"].get("enum").map(|e| e.to_string());
            if names(actual) != names(expected) {
                problems.push(format!(
                    "{name}.{field}: model names {:?} instead of {:?}",
                    names(actual),
                    names(expected)
                ));
            }
            for limit in ["minimum", "maximum"] {
                let number = |s: &Value| s.get(limit).and_then(Value::as_f64);
                if number(actual) != number(expected) {
                    problems.push(format!(
                        "{name}.{field}: {limit} {:?} instead of {:?}",
                        number(actual),
                        number(expected)
                    ));
                }
            }
        }
    }

    let security = &served["components"]["securitySchemes"]["APIKeyHeader"];
    if security["type"] != "apiKey" || security["in"] != "header" || security["name"] != "Authorization" {
        problems.push(format!("security scheme APIKeyHeader is {security}"));
    }
    assert!(
        problems.is_empty(),
        "{} differences from the original contract:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn openapi_command_matches_served_document() {
    let server = Server::start("");
    let served: Value = reqwest::get(server.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let printed: Value = serde_json::from_str(&crate::harness::run_cli(&server.data_dir(), &["openapi"])).unwrap();
    assert_eq!(printed, served);
}

#[tokio::test]
async fn docs_pages_are_served_without_network() {
    let server = Server::start("");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = client.get(server.url("/")).send().await.unwrap();
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/docs");

    let docs = reqwest::get(server.url("/docs/")).await.unwrap().text().await.unwrap();
    assert!(docs.contains("swagger-ui"), "{docs}");
    assert!(!docs.contains("cdn."), "Swagger UI must not load from a CDN");
    let redoc = reqwest::get(server.url("/redoc")).await.unwrap().text().await.unwrap();
    assert!(redoc.contains("/redoc/redoc.standalone.js"));
    assert!(!redoc.contains("cdn."), "ReDoc must not load from a CDN");
    let script = reqwest::get(server.url("/redoc/redoc.standalone.js")).await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.bytes().await.unwrap().len() > 100_000);
    let health: Value = reqwest::get(server.url("/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health, serde_json::json!({"status": "healthy"}));
}
