//! The configuration file (PROVIDERS.md §1): regions, models and the providers that serve
//! them, read once at start-up into a [`Setup`]. Without a file, the built-in setup is today's
//! behaviour: three regions, three models, one hybrid-router provider per region.
//!
//! Parsed by serde + `toml` with unknown keys refused; every problem names the file, the line
//! and the key, and stops start-up (exit 2). Nothing falls back to a default silently.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use crate::domain::job::JobLimits;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::{Catalogue, ModelInfo, Region, RegionInfo};

/// How calls to a provider are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ProviderKind {
    /// An OpenAI-compatible `POST {base_url}/chat/completions` (Ollama, vLLM, llama.cpp, hosted).
    #[serde(rename = "openai")]
    OpenAi,
    /// The hybrid router of DOMAIN.md (`POST {base_url}/inference`).
    #[serde(rename = "hybrid-router")]
    HybridRouter,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::HybridRouter => "hybrid-router",
        }
    }
}

/// Generation settings and retry policy every job starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    pub temperature: f64,
    pub max_tokens: u32,
    pub timeout: Duration,
    pub auto_retries: u8,
    pub auto_retry_backoff: Vec<Duration>,
}

/// One provider, validated.
#[derive(Debug, Clone)]
pub struct ProviderSpec {
    pub id: String,
    pub kind: ProviderKind,
    pub region: Region,
    /// `None`: a hybrid-router provider at `HYBRID_ROUTER_URL`, or the built-in demo router.
    pub base_url: Option<String>,
    /// Read from the variable `api_key_env` names at start-up; never printed.
    pub api_key: Option<String>,
    /// Beacon's model id → the provider's own name for it.
    pub models: BTreeMap<String, String>,
    pub concurrency: usize,
    pub requests_per_minute: Option<u32>,
    pub timeout: Duration,
}

/// Everything the configuration says, validated.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Where it came from: a file's path, or "built-in".
    pub source: String,
    pub catalogue: Catalogue,
    /// Each region's system prompt.
    pub system_prompts: HashMap<Region, String>,
    pub defaults: Defaults,
    pub providers: Vec<ProviderSpec>,
}

impl Setup {
    pub fn system_prompt(&self, region: &Region) -> String {
        self.system_prompts.get(region).cloned().unwrap_or_else(|| default_system_prompt(self.catalogue.label(region)))
    }
}

/// The system prompt Beacon has always sent: the region's label in a fixed sentence.
pub fn default_system_prompt(label: &str) -> String {
    format!(
        "You are a helpful, honest, and harmless AI assistant based in {label}. \
         Answer the user's question accurately and concisely."
    )
}

/// What the environment contributes to the setup (PRODUCT.md §1's variables keep working).
pub struct EnvDefaults {
    pub router_timeout: Duration,
    pub region_concurrency: usize,
}

const BUILT_IN_MODELS: [(&str, &str); 3] =
    [("llama3.2-1b", "Llama 3.2-1B Instruct"), ("mistral-7b", "Mistral 7B Instruct"), ("qwen2.5-1.5b", "Qwen 2.5-1.5B Instruct")];

const BUILT_IN_REGIONS: [(&str, &str, &[&str]); 3] =
    [("us-east", "United States", &["US"]), ("eu-west", "Europe", &["EU"]), ("asia-pacific", "Asia Pacific", &["ASIA", "APAC"])];

/// Today's behaviour, with no file: every model in every region through the hybrid router.
pub fn built_in(env: &EnvDefaults) -> Setup {
    let regions: Vec<RegionInfo> = BUILT_IN_REGIONS
        .iter()
        .map(|(id, label, aliases)| RegionInfo {
            id: Region::new(id).expect("built-in ids are valid"),
            label: label.to_string(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        })
        .collect();
    let models = BUILT_IN_MODELS
        .iter()
        .map(|(id, name)| ModelInfo { id: id.to_string(), name: name.to_string(), regions: regions.iter().map(|r| r.id.clone()).collect() })
        .collect();
    let providers = regions
        .iter()
        .map(|region| ProviderSpec {
            id: format!("hybrid-{}", region.id),
            kind: ProviderKind::HybridRouter,
            region: region.id.clone(),
            base_url: None,
            api_key: None,
            models: BUILT_IN_MODELS.iter().map(|(id, _)| (id.to_string(), id.to_string())).collect(),
            concurrency: env.region_concurrency,
            requests_per_minute: None,
            timeout: env.router_timeout,
        })
        .collect();
    Setup {
        source: "built-in".into(),
        catalogue: Catalogue { regions, models },
        system_prompts: HashMap::new(),
        defaults: Defaults {
            temperature: 0.1,
            max_tokens: 500,
            timeout: env.router_timeout,
            auto_retries: 0,
            auto_retry_backoff: [2, 10, 30].map(Duration::from_secs).to_vec(),
        },
        providers,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    defaults: FileDefaults,
    #[serde(default)]
    regions: Vec<FileRegion>,
    #[serde(default)]
    models: Vec<FileModel>,
    #[serde(default)]
    providers: Vec<FileProvider>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDefaults {
    temperature: Option<Spanned<f64>>,
    max_tokens: Option<Spanned<u32>>,
    timeout_seconds: Option<Spanned<u64>>,
    auto_retries: Option<Spanned<u8>>,
    auto_retry_backoff_seconds: Option<Spanned<Vec<u64>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRegion {
    id: Spanned<String>,
    label: String,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    system_prompt: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    id: Spanned<String>,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProvider {
    id: Spanned<String>,
    kind: ProviderKind,
    region: Spanned<String>,
    base_url: Option<Spanned<String>>,
    api_key_env: Option<Spanned<String>>,
    models: Spanned<BTreeMap<String, String>>,
    concurrency: Option<Spanned<u32>>,
    requests_per_minute: Option<Spanned<u32>>,
    timeout_seconds: Option<Spanned<u64>>,
}

/// A problem with the file: where, which key, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: Option<usize>,
    pub key: String,
    pub problem: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, {}: {}", self.key, self.problem),
            None => write!(f, "{}: {}", self.key, self.problem),
        }
    }
}

/// Reads and validates the file at `path`; `env_var` looks up the variables `api_key_env` names.
pub fn load(path: &Path, env: &EnvDefaults, env_var: &dyn Fn(&str) -> Option<String>) -> Result<Setup, FileError> {
    let text =
        std::fs::read_to_string(path).map_err(|err| FileError { line: None, key: "(file)".into(), problem: format!("cannot be read: {err}") })?;
    let mut setup = parse(&text, env, env_var)?;
    setup.source = path.display().to_string();
    Ok(setup)
}

pub fn parse(text: &str, env: &EnvDefaults, env_var: &dyn Fn(&str) -> Option<String>) -> Result<Setup, FileError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let syntax = |err: toml::de::Error| FileError {
        line: err.span().map(|span| line_of(span.start)),
        key: "(syntax)".into(),
        problem: err.message().trim().to_string(),
    };
    let file: FileConfig = serde_path_to_error::deserialize(toml::Deserializer::parse(text).map_err(syntax)?).map_err(|err| {
        // The path the value was found at, when there is one: a wrong type is named by its key.
        let path = err.path().to_string();
        // `Spanned` values add a private segment of their own: the key is what comes before.
        let key = path.split(".$__").next().unwrap_or_default().to_string();
        let mut error = syntax(err.into_inner());
        if !key.is_empty() && key != "." {
            error.key = key;
        }
        error
    })?;
    let at = |span: std::ops::Range<usize>, key: String, problem: String| FileError { line: Some(line_of(span.start)), key, problem };

    if file.regions.is_empty() {
        return Err(FileError { line: None, key: "regions".into(), problem: "at least one [[regions]] is needed".into() });
    }
    let mut regions = Vec::new();
    let mut system_prompts = HashMap::new();
    let mut names_taken: HashSet<String> = HashSet::new();
    for (i, entry) in file.regions.iter().enumerate() {
        let key = format!("regions[{i}].id");
        let id = Region::new(entry.id.get_ref())
            .ok_or_else(|| at(entry.id.span(), key.clone(), format!("{:?} must be [a-z0-9-], 1 to 32 characters", entry.id.get_ref())))?;
        for (name, span, key) in std::iter::once((id.as_str().to_string(), entry.id.span(), key))
            .chain(entry.aliases.iter().enumerate().map(|(j, a)| (a.get_ref().trim().to_string(), a.span(), format!("regions[{i}].aliases[{j}]"))))
        {
            if name.is_empty() {
                return Err(at(span, key, "must not be empty".into()));
            }
            if !names_taken.insert(name.to_ascii_lowercase()) {
                return Err(at(span, key, format!("{name:?} already names another region")));
            }
        }
        if let Some(prompt) = &entry.system_prompt {
            system_prompts.insert(id.clone(), prompt.clone());
        }
        regions.push(RegionInfo { id, label: entry.label.clone(), aliases: entry.aliases.iter().map(|a| a.get_ref().trim().to_string()).collect() });
    }

    if file.models.is_empty() {
        return Err(FileError { line: None, key: "models".into(), problem: "at least one [[models]] is needed".into() });
    }
    let mut models: Vec<ModelInfo> = Vec::new();
    for (i, entry) in file.models.iter().enumerate() {
        let id = entry.id.get_ref();
        let fine =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
        if !fine {
            return Err(at(entry.id.span(), format!("models[{i}].id"), format!("{id:?} must be [a-z0-9._-], 1 to 64 characters")));
        }
        if models.iter().any(|m| &m.id == id) {
            return Err(at(entry.id.span(), format!("models[{i}].id"), format!("{id:?} is listed twice")));
        }
        models.push(ModelInfo { id: id.clone(), name: entry.name.clone(), regions: Vec::new() });
    }

    let d = &file.defaults;
    let defaults = Defaults {
        temperature: match &d.temperature {
            Some(t) if !JobLimits::TEMPERATURE.contains(t.get_ref()) => {
                return Err(at(t.span(), "defaults.temperature".into(), limit_problem(&JobLimits::TEMPERATURE)))
            }
            Some(t) => *t.get_ref(),
            None => 0.1,
        },
        max_tokens: match &d.max_tokens {
            // What a job may ask for is what its default may be (the default is used unchecked).
            Some(m) if !JobLimits::MAX_TOKENS.contains(&i64::from(*m.get_ref())) => {
                return Err(at(m.span(), "defaults.max_tokens".into(), limit_problem(&JobLimits::MAX_TOKENS)))
            }
            Some(m) => *m.get_ref(),
            None => 500,
        },
        timeout: match &d.timeout_seconds {
            Some(t) if !(1..=86_400).contains(t.get_ref()) => {
                return Err(at(t.span(), "defaults.timeout_seconds".into(), "must be from 1 to 86400".into()))
            }
            Some(t) => Duration::from_secs(*t.get_ref()),
            None => env.router_timeout,
        },
        auto_retries: match &d.auto_retries {
            Some(a) if !JobLimits::AUTO_RETRIES.contains(&i64::from(*a.get_ref())) => {
                return Err(at(a.span(), "defaults.auto_retries".into(), limit_problem(&JobLimits::AUTO_RETRIES)))
            }
            Some(a) => *a.get_ref(),
            None => 0,
        },
        auto_retry_backoff: match &d.auto_retry_backoff_seconds {
            Some(b) if b.get_ref().is_empty() || b.get_ref().iter().any(|s| *s > 3_600) => {
                return Err(at(b.span(), "defaults.auto_retry_backoff_seconds".into(), "must list 1 or more waits of at most 3600 s".into()))
            }
            Some(b) => b.get_ref().iter().map(|s| Duration::from_secs(*s)).collect(),
            None => [2, 10, 30].map(Duration::from_secs).to_vec(),
        },
    };

    if file.providers.is_empty() {
        return Err(FileError { line: None, key: "providers".into(), problem: "at least one [[providers]] is needed".into() });
    }
    let mut providers: Vec<ProviderSpec> = Vec::new();
    for (i, entry) in file.providers.iter().enumerate() {
        let key = |field: &str| format!("providers[{i}].{field}");
        let id = entry.id.get_ref().trim();
        if id.is_empty() || id.len() > 64 || providers.iter().any(|p| p.id == id) {
            return Err(at(entry.id.span(), key("id"), format!("{id:?} must be 1 to 64 characters and unique")));
        }
        let region = regions
            .iter()
            .find(|r| r.id.as_str() == entry.region.get_ref())
            .map(|r| r.id.clone())
            .ok_or_else(|| at(entry.region.span(), key("region"), format!("{:?} is not a configured region id", entry.region.get_ref())))?;
        let base_url = match &entry.base_url {
            Some(url) => {
                let parsed = reqwest::Url::parse(url.get_ref()).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
                if parsed.is_none() {
                    return Err(at(url.span(), key("base_url"), "must be an http:// or https:// URL".into()));
                }
                Some(url.get_ref().trim_end_matches('/').to_string())
            }
            None if entry.kind == ProviderKind::OpenAi => {
                return Err(at(entry.id.span(), key("base_url"), "an openai provider needs its base_url".into()))
            }
            None => None,
        };
        let api_key = match &entry.api_key_env {
            Some(name) => Some(
                env_var(name.get_ref())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| at(name.span(), key("api_key_env"), format!("the variable {} is not set", name.get_ref())))?,
            ),
            None => None,
        };
        if entry.models.get_ref().is_empty() {
            return Err(at(entry.models.span(), key("models"), "must map at least one model".into()));
        }
        for (model, served_as) in entry.models.get_ref() {
            let Some(info) = models.iter_mut().find(|m| &m.id == model) else {
                return Err(at(entry.models.span(), key("models"), format!("{model:?} is not a configured model id")));
            };
            if served_as.trim().is_empty() {
                return Err(at(entry.models.span(), key("models"), format!("{model:?} needs the provider's name for it")));
            }
            if !info.regions.contains(&region) {
                info.regions.push(region.clone());
            }
        }
        let concurrency = match &entry.concurrency {
            Some(c) if !(1..=10_000).contains(c.get_ref()) => return Err(at(c.span(), key("concurrency"), "must be from 1 to 10000".into())),
            Some(c) => *c.get_ref() as usize,
            None => env.region_concurrency,
        };
        let requests_per_minute = match &entry.requests_per_minute {
            Some(r) if !(1..=1_000_000).contains(r.get_ref()) => {
                return Err(at(r.span(), key("requests_per_minute"), "must be from 1 to 1000000".into()))
            }
            Some(r) => Some(*r.get_ref()),
            None => None,
        };
        let timeout = match &entry.timeout_seconds {
            Some(t) if !(1..=86_400).contains(t.get_ref()) => return Err(at(t.span(), key("timeout_seconds"), "must be from 1 to 86400".into())),
            Some(t) => Duration::from_secs(*t.get_ref()),
            None => defaults.timeout,
        };
        providers.push(ProviderSpec {
            id: id.to_string(),
            kind: entry.kind,
            region,
            base_url,
            api_key,
            models: entry.models.get_ref().clone(),
            concurrency,
            requests_per_minute,
            timeout,
        });
    }
    // A model no provider serves could never run: say so rather than offer it.
    if let Some((i, model)) = models.iter().enumerate().find(|(_, m)| m.regions.is_empty()) {
        return Err(at(file.models[i].id.span(), format!("models[{i}].id"), format!("{:?} is served by no provider", model.id)));
    }
    Ok(Setup { source: String::new(), catalogue: Catalogue { regions, models }, system_prompts, defaults, providers })
}

/// "must be from 1 to 8192": a job's limit, as the configuration's check says it.
fn limit_problem<T: std::fmt::Display>(range: &std::ops::RangeInclusive<T>) -> String {
    format!("must be from {} to {} (what a job may ask for)", range.start(), range.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: EnvDefaults = EnvDefaults { router_timeout: Duration::from_secs(300), region_concurrency: 10 };

    const GOOD: &str = r#"
[defaults]
temperature = 0.2
auto_retries = 2

[[regions]]
id = "us-central"
label = "United States (Iowa)"
aliases = ["US"]
system_prompt = "You answer from Iowa."

[[regions]]
id = "eu-north"
label = "Europe (Finland)"

[[models]]
id = "llama3.1-8b"
name = "Llama 3.1 8B"

[[providers]]
id = "ollama-iowa"
kind = "openai"
region = "us-central"
base_url = "http://gpu-iowa:11434/v1/"
api_key_env = "IOWA_KEY"
models = { "llama3.1-8b" = "llama3.1:8b" }
concurrency = 4
requests_per_minute = 120

[[providers]]
id = "router-eu"
kind = "hybrid-router"
region = "eu-north"
models = { "llama3.1-8b" = "llama3.1-8b" }
"#;

    fn key(name: &str) -> Option<String> {
        (name == "IOWA_KEY").then(|| "sk-test".to_string())
    }

    #[test]
    fn a_complete_file_becomes_a_setup() {
        let setup = parse(GOOD, &ENV, &key).unwrap();
        assert_eq!(setup.catalogue.regions.len(), 2);
        assert_eq!(setup.catalogue.region("us").unwrap().id.as_str(), "us-central");
        assert_eq!(setup.catalogue.models[0].regions.len(), 2);
        assert_eq!(setup.defaults.temperature, 0.2);
        assert_eq!(setup.defaults.auto_retries, 2);
        let iowa = &setup.providers[0];
        assert_eq!((iowa.kind, iowa.concurrency, iowa.requests_per_minute), (ProviderKind::OpenAi, 4, Some(120)));
        assert_eq!(iowa.base_url.as_deref(), Some("http://gpu-iowa:11434/v1"));
        assert_eq!(iowa.api_key.as_deref(), Some("sk-test"));
        assert_eq!(setup.providers[1].concurrency, 10, "BEACON_REGION_CONCURRENCY is the default");
        assert_eq!(setup.system_prompt(&Region::new("us-central").unwrap()), "You answer from Iowa.");
        assert!(setup.system_prompt(&Region::new("eu-north").unwrap()).contains("based in Europe (Finland)"));
    }

    #[test]
    fn every_mistake_names_its_line_and_key() {
        for (change, line, wanted) in [
            (GOOD.replace("temperature = 0.2", "temprature = 0.2"), 3, "defaults.temprature"),
            (GOOD.replace(r#"region = "us-central""#, r#"region = "mars""#), 23, "providers[0].region"),
            (GOOD.replace(r#"kind = "openai""#, r#"kind = "grpc""#), 22, "providers[0].kind"),
            (GOOD.replace(r#"api_key_env = "IOWA_KEY""#, r#"api_key_env = "NOT_SET""#), 25, "providers[0].api_key_env"),
            (GOOD.replace(r#"id = "us-central""#, r#"id = "US Central""#), 7, "regions[0].id"),
            (GOOD.replace(r#""http://gpu-iowa:11434/v1/""#, r#""gpu-iowa:11434""#), 24, "providers[0].base_url"),
            (GOOD.replace(r#"models = { "llama3.1-8b" = "llama3.1:8b" }"#, r#"models = { "gpt-9" = "x" }"#), 26, "providers[0].models"),
            (GOOD.replace("concurrency = 4", "concurrency = 0"), 27, "providers[0].concurrency"),
            (GOOD.replace("auto_retries = 2", "auto_retries = 9"), 4, "defaults.auto_retries"),
            (GOOD.replace(r#"label = "Europe (Finland)""#, "label = \"Europe\"\naliases = [\"us\"]"), 15, "regions[1].aliases[0]"),
        ] {
            let err = parse(&change, &ENV, &key).unwrap_err();
            assert_eq!((err.line, err.key.as_str()), (Some(line), wanted), "{err}");
        }
        // A value of the wrong type names its key, whatever the table.
        let wrong_type = parse(&GOOD.replace("concurrency = 4", r#"concurrency = "x""#), &ENV, &key).unwrap_err();
        assert_eq!((wrong_type.line, wrong_type.key.as_str()), (Some(27), "providers[0].concurrency"), "{wrong_type}");
        assert!(wrong_type.problem.contains(r#"invalid type: string "x""#), "{wrong_type}");
        // A job may ask for at most 8,192 tokens: so may its default.
        let too_many = parse(&GOOD.replace("[defaults]", "[defaults]\nmax_tokens = 16000"), &ENV, &key).unwrap_err();
        assert_eq!(too_many.key, "defaults.max_tokens");
        assert_eq!(too_many.problem, "must be from 1 to 8192 (what a job may ask for)");
        let unknown_key = parse(&GOOD.replace("[defaults]", "[defaults]\ncolour = 1"), &ENV, &key).unwrap_err();
        assert!(unknown_key.problem.contains("colour"), "{unknown_key}");
    }

    #[test]
    fn the_readmes_example_is_a_valid_configuration() {
        let readme = include_str!("../../../README.md");
        let section = readme.split("## Your own models").nth(1).expect("the README's section");
        let example = section.split("```toml").nth(1).and_then(|rest| rest.split("```").next()).expect("its beacon.toml");
        let setup = parse(example, &ENV, &|name| (name == "OPENAI_API_KEY").then(|| "sk-x".to_string())).unwrap();
        assert_eq!(setup.providers.len(), 3);
        assert_eq!(setup.catalogue.models[0].regions.len(), 2, "llama is served in both regions");
        assert_eq!(setup.defaults.auto_retries, 2);
    }

    #[test]
    fn the_built_in_setup_is_todays_behaviour() {
        let setup = built_in(&ENV);
        let ids: Vec<&str> = setup.catalogue.regions.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["us-east", "eu-west", "asia-pacific"]);
        for alias in ["US", "EU", "ASIA", "APAC", "us-east"] {
            assert!(setup.catalogue.region(alias).is_some(), "{alias}");
        }
        assert_eq!(setup.providers.len(), 3);
        assert!(setup.providers.iter().all(|p| p.kind == ProviderKind::HybridRouter && p.base_url.is_none() && p.models.len() == 3));
        assert!(setup
            .system_prompt(&Region::new("eu-west").unwrap())
            .starts_with("You are a helpful, honest, and harmless AI assistant based in Europe."));
    }
}
