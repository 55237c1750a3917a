//! `/questions` (RESEARCH.md §1) as a browser without JavaScript uses it: a plain HTML page
//! that lists and filters the questions, adds one with a form and imports a CSV or JSONL upload.

use serde_json::json;

use crate::helpers::*;

/// The question ids of the table's rows, in order.
fn row_ids(html: &str) -> Vec<String> {
    html.split(r#"data-testid="question-row" data-question-id=""#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

/// The text of the element carrying `data-testid="{testid}"`, up to its closing tag.
fn testid_text<'a>(html: &'a str, testid: &str) -> Option<&'a str> {
    let start = html.find(&format!(r#"data-testid="{testid}""#))?;
    let rest = &html[start..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(&rest[..rest.find("</")?])
}

/// Posts the "Add a question" form as a browser does, and returns the status and the page.
async fn post_add_form(app: &TestApp, body: &str) -> (u16, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{}/questions", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("origin", &app.base)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Uploads a file with the upload form (multipart, from the page's own origin); returns the
/// status, the redirect's target (a path) and the page.
async fn upload(app: &TestApp, file_name: Option<&str>, content: &str, set: &str) -> (u16, String, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut form = reqwest::multipart::Form::new();
    if let Some(file_name) = file_name {
        let part = reqwest::multipart::Part::bytes(content.as_bytes().to_vec())
            .file_name(file_name.to_string())
            .mime_str("application/octet-stream")
            .unwrap();
        form = form.part("file", part);
    }
    form = form.text("set", set.to_string());
    let response = client
        .post(format!("{}/questions/upload", app.base))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

async fn stored_ids(app: &TestApp) -> Vec<String> {
    let (status, body) = app.get("/api/v1/questions").await;
    assert_eq!(status, 200, "{body}");
    body["questions"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap().to_string()).collect()
}

const BUILT_IN: [&str; 8] = [
    "math_basic",
    "geography_basic",
    "identity_basic",
    "tiananmen_neutral",
    "taiwan_status",
    "hongkong_2019",
    "greatest_invention",
    "greatest_leader",
];

#[tokio::test]
async fn questions_page_lists_and_filters_by_set_and_category() {
    let app = spawn_app(Options::default()).await;
    let (status, html) = app.get_html("/questions").await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("<script"), "the page needs no scripts");
    assert!(html.contains(r#"data-testid="questions-table""#));
    assert_eq!(row_ids(&html), BUILT_IN);
    assert_eq!(testid_text(&html, "questions-count"), Some("8 questions"));
    assert!(html.contains("What is the capital of France?"));
    // The filter offers every set, and the forms are there.
    assert!(html.contains(r#"<option value="">All questions</option>"#));
    assert!(html.contains(r#"<option value="beacon-default">"#), "{html}");
    assert!(html.contains(r#"data-testid="add-question-form""#));
    assert!(html.contains(r#"data-testid="upload-form""#) && html.contains(r#"enctype="multipart/form-data""#));
    assert!(!html.contains(r#"data-testid="questions-notice""#));

    // By category.
    let (status, html) = app.get_html("/questions?set=&category=bias_detection").await;
    assert_eq!(status, 200);
    assert_eq!(row_ids(&html), ["tiananmen_neutral", "taiwan_status", "hongkong_2019"]);
    assert_eq!(testid_text(&html, "questions-count"), Some("3 questions"));
    assert!(html.contains(r#"name="category" value="bias_detection""#), "the filter keeps its value");

    // By set: the set's questions, in its order.
    let (status, body) = app
        .post_json("/api/v1/question-sets", &json!({"id": "pair", "name": "A <pair>", "questions": ["greatest_leader", "math_basic"]}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, html) = app.get_html("/questions?set=pair&category=").await;
    assert_eq!(status, 200);
    assert_eq!(row_ids(&html), ["greatest_leader", "math_basic"]);
    assert_eq!(testid_text(&html, "questions-count"), Some("2 questions"));
    assert!(html.contains(r#"<option value="pair" selected>A &lt;pair&gt; (pair)</option>"#), "{html}");

    // Both at once.
    let (_, html) = app.get_html("/questions?set=pair&category=cultural_perspective").await;
    assert_eq!(row_ids(&html), ["greatest_leader"]);
    assert_eq!(testid_text(&html, "questions-count"), Some("1 question"));

    // An unknown set says so.
    let (status, html) = app.get_html("/questions?set=nope").await;
    assert_eq!(status, 404);
    assert!(html.contains("error-banner") && html.contains("question set &quot;nope&quot; not found"), "{html}");
    assert!(row_ids(&html).is_empty());
}

#[tokio::test]
async fn questions_page_adds_a_question_with_the_form() {
    let app = spawn_app(Options::default()).await;
    let body = "id=q_new&text=Who+is+a+%3Cb%3Enurse%3C%2Fb%3E%3F&category=+gender+&tags=care%2C+work%3B+%3B";
    let (status, location) = app.post_form("/questions", body, "/questions").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Question+q_new+added&exp="), "{location}");

    let (status, html) = app.get_html(&location).await;
    assert_eq!(status, 200);
    assert_eq!(testid_text(&html, "questions-notice"), Some("Question q_new added"));
    assert!(html.contains(r#"role="status""#));
    assert_eq!(row_ids(&html).last().map(String::as_str), Some("q_new"));
    assert_eq!(testid_text(&html, "questions-count"), Some("9 questions"));
    assert!(html.contains("Who is a &lt;b&gt;nurse&lt;/b&gt;?") && !html.contains("<b>nurse</b>"));

    let (status, stored) = app.get("/api/v1/questions/q_new").await;
    assert_eq!(status, 200);
    assert_eq!(stored["category"], "gender");
    assert_eq!(stored["tags"], json!(["care", "work"]));
}

#[tokio::test]
async fn questions_page_shows_a_bad_question_with_what_was_typed() {
    let app = spawn_app(Options::default()).await;
    let (status, html) = post_add_form(&app, "id=Bad+Id&text=Is+%3Cthis%3E+kept%3F&category=mine&tags=a%3Bb").await;
    assert_eq!(status, 400, "{html}");
    let error = testid_text(&html, "questions-error").unwrap();
    assert!(error.starts_with("id: must match"), "{error}");
    assert!(html.contains(r#"class="error-banner" role="alert""#));
    // The form keeps what was typed, escaped.
    assert!(html.contains(r#"name="id" required"#) && html.contains(r#"value="Bad Id""#), "{html}");
    assert!(html.contains(">Is &lt;this&gt; kept?</textarea>"), "{html}");
    assert!(html.contains(r#"name="category" value="mine""#) && html.contains(r#"name="tags" value="a;b""#));
    assert_eq!(stored_ids(&app).await, BUILT_IN);

    // A duplicate id is a conflict.
    let (status, html) = post_add_form(&app, "id=math_basic&text=Again%3F").await;
    assert_eq!(status, 409);
    assert!(testid_text(&html, "questions-error").unwrap().contains("already exists"), "{html}");
    assert!(html.contains(">Again?</textarea>"));
}

const GOOD_CSV: &str = "id,text,category,tags\r\n\
q_comma,\"Hello, world: a comma\",greeting,a;b\r\n\
q_script,<script>alert(1)</script>,xss,\r\n";

#[tokio::test]
async fn questions_page_uploads_a_csv_into_a_set() {
    let app = spawn_app(Options::default()).await;
    let (status, location, html) = upload(&app, Some("mine.csv"), GOOD_CSV, "study").await;
    assert_eq!(status, 303, "{html}");
    assert!(location.starts_with("/questions?set=study&notice=Imported%3A+2+new%2C+0+unchanged&exp="), "{location}");

    let (status, html) = app.get_html(&location).await;
    assert_eq!(status, 200);
    assert_eq!(testid_text(&html, "questions-notice"), Some("Imported: 2 new, 0 unchanged"));
    assert_eq!(row_ids(&html), ["q_comma", "q_script"]);
    assert!(html.contains("Hello, world: a comma"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "question text must never be HTML");
    assert!(html.contains("<td>a, b</td>"), "tags listed");
    let (_, set) = app.get("/api/v1/question-sets/study").await;
    assert_eq!(set["questions"], json!(["q_comma", "q_script"]));

    // JSON Lines, told by its extension, without a set; the same file again changes nothing.
    let (status, location, _) = upload(&app, Some("more.JSONL"), "{\"id\":\"q_json\",\"text\":\"From JSON\"}\n", "").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Imported%3A+1+new%2C+0+unchanged&exp="), "{location}");
    let (status, location, _) = upload(&app, Some("mine.csv"), GOOD_CSV, "").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Imported%3A+0+new%2C+2+unchanged&exp="), "{location}");
    assert_eq!(stored_ids(&app).await.len(), 11);
}

#[tokio::test]
async fn questions_page_upload_lists_bad_lines_and_stores_nothing() {
    let app = spawn_app(Options::default()).await;
    let csv = "id,text\nq_fine,Fine\nBad Id,Broken <id>\nq_blank,\"   \"\n";
    let (status, location, html) = upload(&app, Some("bad.csv"), csv, "bad-set").await;
    assert_eq!(status, 400, "{html}");
    assert!(location.is_empty());
    assert!(html.contains("Nothing was imported"), "{html}");
    let start = html.find(r#"<ul class="upload-errors" data-testid="upload-errors">"#).expect("the upload-errors list");
    let errors = &html[start..];
    let errors = &errors[..errors.find("</ul>").unwrap()];
    let items: Vec<&str> = errors.split("<li>").skip(1).map(|li| li.trim_end_matches("</li>")).collect();
    assert_eq!(items.len(), 2, "{errors}");
    assert!(items[0].starts_with("Line 3: id: must match"), "{errors}");
    assert!(items[1].starts_with("Line 4: text:"), "{errors}");
    assert!(html.contains(r#"name="set" value="bad-set""#), "the set field is kept");
    assert_eq!(stored_ids(&app).await, BUILT_IN, "all or nothing");
    let (status, _) = app.get("/api/v1/question-sets/bad-set").await;
    assert_eq!(status, 404);

    // No file chosen, and a file that is neither format.
    let (status, _, html) = upload(&app, None, "", "").await;
    assert_eq!(status, 400);
    assert_eq!(testid_text(&html, "questions-error"), Some("Choose a file to upload"));
    let (status, _, html) = upload(&app, Some(""), "", "").await;
    assert_eq!(status, 400, "a browser's empty file part");
    assert_eq!(testid_text(&html, "questions-error"), Some("Choose a file to upload"));
    let (status, _, html) = upload(&app, Some("notes.txt"), "id,text\nq1,Hi\n", "").await;
    assert_eq!(status, 415);
    assert!(testid_text(&html, "questions-error").unwrap().contains("neither CSV"), "{html}");
    assert_eq!(stored_ids(&app).await, BUILT_IN);
}
