//! `/questions` (RESEARCH.md §1) as a browser without JavaScript uses it: the page, rendered
//! by the server, lists and filters the questions, adds one with a form and imports a CSV or
//! JSONL upload; every form posts and comes back to the page (post/redirect/get), with a notice
//! or with the error beside the form it is about.

use serde_json::json;

use crate::helpers::*;

/// The question ids of the table's rows, in order.
fn row_ids(html: &str) -> Vec<String> {
    html.split(r#"data-testid="question-row" data-question-id=""#).skip(1).map(|rest| rest[..rest.find('"').unwrap()].to_string()).collect()
}

/// The text of the element carrying `data-testid="{testid}"`, up to its closing tag.
fn testid_text<'a>(html: &'a str, testid: &str) -> Option<&'a str> {
    let start = html.find(&format!(r#"data-testid="{testid}""#))?;
    let rest = &html[start..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(&rest[..rest.find("</")?])
}

/// The page as the server first sends it (what a browser without JavaScript shows), without
/// Leptos' `<!>` markers between dynamic pieces.
async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let (status, html) = app.get_html(path).await;
    (status, html.replace("<!>", ""))
}

/// Posts the form of the page at `from` that calls the server function `name`, as a browser
/// without JavaScript does; returns the status and the redirect's target.
async fn post_page_form(app: &TestApp, from: &str, name: &str, body: &str) -> (u16, String) {
    let (status, html) = page(app, from).await;
    assert!(status < 500, "{html}");
    let action = form_action(&html, name);
    app.post_form(&action, body, from).await
}

/// A refused form comes back to the page with its error (signed) and what was typed: the
/// redirect's target, checked, and the page it shows.
async fn refused_page(app: &TestApp, (status, location): (u16, String), name: &str) -> String {
    assert_eq!(status, 303, "{location}");
    assert!(
        location.starts_with("/questions?") && location.contains("__path=") && location.contains(name) && location.contains("__err="),
        "{location}"
    );
    assert!(location.contains("sig="), "the error is signed: {location}");
    let (status, html) = page(app, &location).await;
    assert_eq!(status, 200, "{html}");
    html
}

/// Uploads a file with the upload form (multipart, from the page's own origin); returns the
/// status and the redirect's target (a path).
async fn upload(app: &TestApp, file_name: Option<&str>, content: &str, set: &str) -> (u16, String) {
    let (_, html) = page(app, "/questions").await;
    let start = html.find(r#"data-testid="upload-form""#).expect("the upload form");
    let form = &html[html[..start].rfind("<form").unwrap()..];
    let action = &form[form.find(r#"action=""#).unwrap() + r#"action=""#.len()..];
    let action = &action[..action.find('"').unwrap()];
    assert_eq!(action, "/api/upload_questions");
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
    let response =
        client.post(format!("{}{action}", app.base)).header("accept", "text/html").header("origin", &app.base).multipart(form).send().await.unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location)
}

async fn stored_ids(app: &TestApp) -> Vec<String> {
    let (status, body) = app.get("/api/v1/questions").await;
    assert_eq!(status, 200, "{body}");
    body["questions"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap().to_string()).collect()
}

const BUILT_IN: [&str; 8] = BUILT_IN_QUESTIONS;

#[tokio::test]
async fn questions_page_lists_and_filters_by_set_and_category() {
    let app = spawn_app(Options::default()).await;
    let (status, html) = page(&app, "/questions").await;
    assert_eq!(status, 200, "{html}");
    // The list is in the page as first sent, as markup (not data left for a script to render):
    // a browser without JavaScript shows it.
    assert!(!html.contains("Loading…"), "{html}");
    assert!(html.contains(r#"<td class="question-text">What is the capital of France?</td>"#), "{html}");
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
    let (status, html) = page(&app, "/questions?set=&category=bias_detection").await;
    assert_eq!(status, 200);
    assert_eq!(row_ids(&html), ["tiananmen_neutral", "taiwan_status", "hongkong_2019"]);
    assert_eq!(testid_text(&html, "questions-count"), Some("3 questions"));
    assert!(html.contains(r#"name="category" value="bias_detection""#), "the filter keeps its value");

    // By set: the set's questions, in its order.
    let (status, body) =
        app.post_json("/api/v1/question-sets", &json!({"id": "pair", "name": "A <pair>", "questions": ["greatest_leader", "math_basic"]})).await;
    assert_eq!(status, 201, "{body}");
    let (status, html) = page(&app, "/questions?set=pair&category=").await;
    assert_eq!(status, 200);
    assert_eq!(row_ids(&html), ["greatest_leader", "math_basic"]);
    assert_eq!(testid_text(&html, "questions-count"), Some("2 questions"));
    assert!(html.contains(r#"<option value="pair" selected>A &lt;pair&gt; (pair)</option>"#), "{html}");

    // Both at once.
    let (_, html) = page(&app, "/questions?set=pair&category=cultural_perspective").await;
    assert_eq!(row_ids(&html), ["greatest_leader"]);
    assert_eq!(testid_text(&html, "questions-count"), Some("1 question"));

    // An unknown set says so.
    let (status, html) = page(&app, "/questions?set=nope").await;
    assert_eq!(status, 404);
    assert!(html.contains("error-banner") && html.contains(r#"question set "nope" not found"#), "{html}");
    assert!(row_ids(&html).is_empty());
}

#[tokio::test]
async fn questions_page_adds_a_question_with_the_form() {
    let app = spawn_app(Options::default()).await;
    let body = "id=q_new&text=Who+is+a+%3Cb%3Enurse%3C%2Fb%3E%3F&category=+gender+&tags=care%2C+work%3B+%3B";
    let (status, location) = post_page_form(&app, "/questions", "add_question", body).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Question+q_new+added&exp="), "{location}");

    let (status, html) = page(&app, &location).await;
    assert_eq!(status, 200);
    assert_eq!(testid_text(&html, "questions-notice"), Some("Question q_new added"));
    assert!(html.contains(r#"role="status""#));
    assert_eq!(row_ids(&html).last().map(String::as_str), Some("q_new"));
    assert_eq!(testid_text(&html, "questions-count"), Some("9 questions"));
    assert!(html.contains("Who is a &lt;b&gt;nurse&lt;/b&gt;?") && !html.contains("<b>nurse</b>"));

    let (status, stored) = app.get("/api/v1/questions/q_new").await;
    assert_eq!(status, 200);
    assert_eq!(stored["text"], "Who is a <b>nurse</b>?");
    assert_eq!(stored["category"], "gender");
    assert_eq!(stored["tags"], json!(["care", "work"]));
    // Its edit form holds the text as text too (a `<textarea>`'s content is not markup-safe by itself).
    let (_, html) = page(&app, "/questions?edit=q_new").await;
    assert!(html.contains(">Who is a &lt;b&gt;nurse&lt;/b&gt;?</textarea>") && !html.contains("<b>nurse</b>"), "{html}");
}

#[tokio::test]
async fn questions_page_shows_a_bad_question_with_what_was_typed() {
    let app = spawn_app(Options::default()).await;
    let posted = post_page_form(&app, "/questions", "add_question", "id=Bad+Id&text=Is+%3Cthis%3E+kept%3F&category=mine&tags=a%3Bb").await;
    let html = refused_page(&app, posted, "add_question").await;
    let error = testid_text(&html, "questions-error").unwrap();
    assert_eq!(error, r#"id: "Bad Id" must be 1–64 lower-case letters, digits, _ or -"#, "the bad value is quoted");
    assert!(html.find(r#"data-testid="questions-error""#) > html.find("<h2>Add a question</h2>"), "the error stands at the form");
    assert!(html.contains(r#"<p role="alert" data-testid="questions-error" class="error-banner">"#), "{html}");
    // The form keeps what was typed, escaped.
    assert!(html.contains(r#"name="id" required"#) && html.contains(r#"value="Bad Id""#), "{html}");
    assert!(html.contains(">Is &lt;this&gt; kept?</textarea>"), "{html}");
    assert!(html.contains(r#"name="category" value="mine""#) && html.contains(r#"name="tags" value="a;b""#));
    assert_eq!(stored_ids(&app).await, BUILT_IN);

    // A duplicate id is a conflict.
    let posted = post_page_form(&app, "/questions", "add_question", "id=math_basic&text=Again%3F").await;
    let html = refused_page(&app, posted, "add_question").await;
    assert!(testid_text(&html, "questions-error").unwrap().contains("already exists"), "{html}");
    assert!(html.find(r#"data-testid="questions-error""#) > html.find("<h2>Add a question</h2>"), "the error stands at the form");
    assert!(html.contains(">Again?</textarea>"));
    assert_eq!(stored_ids(&app).await, BUILT_IN);
}

const GOOD_CSV: &str = "id,text,category,tags\r\n\
q_comma,\"Hello, world: a comma\",greeting,a;b\r\n\
q_script,<script>alert(1)</script>,xss,\r\n";

#[tokio::test]
async fn questions_page_uploads_a_csv_into_a_set() {
    let app = spawn_app(Options::default()).await;
    let (status, location) = upload(&app, Some("mine.csv"), GOOD_CSV, "study").await;
    assert_eq!(status, 303, "{location}");
    assert!(location.starts_with("/questions?set=study&notice=Imported%3A+2+new%2C+0+unchanged&exp="), "{location}");

    let (status, html) = page(&app, &location).await;
    assert_eq!(status, 200);
    assert_eq!(testid_text(&html, "questions-notice"), Some("Imported: 2 new, 0 unchanged"));
    assert_eq!(row_ids(&html), ["q_comma", "q_script"]);
    assert!(html.contains("Hello, world: a comma"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.contains("<script>alert(1)</script>"), "question text must never be HTML");
    assert!(html.contains("<td>a, b</td>"), "tags listed");
    let (_, set) = app.get("/api/v1/question-sets/study").await;
    assert_eq!(set["questions"], json!(["q_comma", "q_script"]));

    // JSON Lines, told by its extension, without a set; the same file again changes nothing.
    let (status, location) = upload(&app, Some("more.JSONL"), "{\"id\":\"q_json\",\"text\":\"From JSON\"}\n", "").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Imported%3A+1+new%2C+0+unchanged&exp="), "{location}");
    let (status, location) = upload(&app, Some("mine.csv"), GOOD_CSV, "").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Imported%3A+0+new%2C+2+unchanged&exp="), "{location}");
    assert_eq!(stored_ids(&app).await.len(), 11);
}

#[tokio::test]
async fn questions_page_upload_lists_bad_lines_and_stores_nothing() {
    let app = spawn_app(Options::default()).await;
    let csv = "id,text\nq_fine,Fine\nBad Id,Broken <id>\nq_blank,\"   \"\n";
    let html = refused_page(&app, upload(&app, Some("bad.csv"), csv, "bad-set").await, "upload_questions").await;
    assert!(html.contains("Nothing was imported"), "{html}");
    let start = html.find(r#"<ul data-testid="upload-errors" class="upload-errors">"#).expect("the upload-errors list");
    let errors = &html[start..];
    let errors = &errors[..errors.find("</ul>").unwrap()];
    let items: Vec<&str> = errors.split("<li>").skip(1).map(|li| li.trim_end_matches("</li>")).collect();
    assert_eq!(items.len(), 2, "{errors}");
    assert_eq!(items[0], r#"Line 3, id: "Bad Id" must be 1–64 lower-case letters, digits, _ or -"#, "{errors}");
    assert!(items[1].starts_with("Line 4, text:"), "{errors}");
    assert!(html.find(r#"data-testid="upload-errors""#) > html.find(r#"data-testid="upload-form""#), "the lines stand at the upload form");
    assert!(html.contains(r#"name="set" value="bad-set""#), "the set field is kept");
    assert_eq!(stored_ids(&app).await, BUILT_IN, "all or nothing");
    let (status, _) = app.get("/api/v1/question-sets/bad-set").await;
    assert_eq!(status, 404);

    // No file chosen, and a file that is neither format.
    let html = refused_page(&app, upload(&app, None, "", "").await, "upload_questions").await;
    assert_eq!(testid_text(&html, "questions-error"), Some("Choose a file to upload"));
    assert!(html.find(r#"data-testid="questions-error""#) > html.find(r#"data-testid="upload-form""#), "at the upload form");
    let html = refused_page(&app, upload(&app, Some(""), "", "").await, "upload_questions").await;
    assert_eq!(testid_text(&html, "questions-error"), Some("Choose a file to upload"), "a browser's empty file part");
    let html = refused_page(&app, upload(&app, Some("notes.txt"), "id,text\nq1,Hi\n", "").await, "upload_questions").await;
    assert!(testid_text(&html, "questions-error").unwrap().contains("neither CSV"), "{html}");
    assert!(html.find(r#"data-testid="questions-error""#) > html.find(r#"data-testid="upload-form""#), "at the upload form");
    assert_eq!(stored_ids(&app).await, BUILT_IN);
}

/// UI.md §9: unused questions are edited and deleted on the page, a question a job has asked
/// offers neither (and refuses both), and an import into a set offers to start a job with it.
#[tokio::test]
async fn questions_page_edits_and_deletes_unused_questions_and_starts_a_job_with_a_set() {
    let app = spawn_app(Options::default()).await;
    let csv = "id,text,category\nq_edit,Old text,old\nq_gone,To delete,\n";
    let (status, location) = upload(&app, Some("two.csv"), csv, "dec-set").await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &location).await;
    assert!(
        html.contains(
            r#"<a href="/?question_set=dec-set#new-job" data-testid="start-with-set" class="button primary">Start a job with this set</a>"#
        ),
        "after the import the set is one click from a job"
    );
    // The form comes with the set chosen and the listed questions unticked.
    let (_, home) = page(&app, "/?question_set=dec-set").await;
    assert!(home.contains(r#"<option value="dec-set" selected>"#), "the set is chosen");
    assert!(!home.contains(r#"name="questions[]" value="math_basic" checked"#), "the listed questions are not ticked");
    let (_, plain) = page(&app, "/").await;
    assert!(plain.contains(r#"name="questions[]" value="math_basic" checked"#), "without a set they are");

    // Edit: the form comes filled in; a bad text is refused beside it and changes nothing.
    let (status, html) = page(&app, "/questions?edit=q_edit").await;
    assert_eq!(status, 200);
    let form = &html[html.find(r#"data-testid="edit-question-form""#).expect("the edit form")..];
    assert!(form_action(form, "edit_question").starts_with("/api/"));
    assert!(form.contains(r#"name="id" value="q_edit""#) && form.contains(">Old text</textarea>") && form.contains(r#"value="old""#), "{form}");
    let posted = post_page_form(&app, "/questions?edit=q_edit", "edit_question", "id=q_edit&text=+++&category=old&tags=").await;
    let html = refused_page(&app, posted, "edit_question").await;
    let error = testid_text(&html, "questions-error").unwrap();
    assert_eq!(error, "text: must not be blank");
    assert!(html.find(r#"data-testid="questions-error""#) > html.find(r#"data-testid="edit-question-form""#));
    let (_, stored) = app.get("/api/v1/questions/q_edit").await;
    assert_eq!((stored["text"].as_str(), stored["category"].as_str()), (Some("Old text"), Some("old")), "unchanged");
    let posted = post_page_form(&app, "/questions?edit=q_edit", "edit_question", "id=q_edit&text=New+%3Ctext%3E&category=new&tags=a%3Bb").await;
    let (status, location) = posted;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Question+q_edit+saved"), "{location}");
    let (_, stored) = app.get("/api/v1/questions/q_edit").await;
    assert_eq!((stored["text"].as_str(), stored["category"].as_str()), (Some("New <text>"), Some("new")));
    assert_eq!(stored["tags"], json!(["a", "b"]));

    // Delete.
    let (status, location) = post_page_form(&app, "/questions", "delete_question", "id=q_gone").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/questions?notice=Question+q_gone+deleted"), "{location}");
    assert_eq!(app.get("/api/v1/questions/q_gone").await.0, 404);
    let html = refused_page(&app, post_page_form(&app, "/questions", "delete_question", "id=q_gone").await, "delete_question").await;
    let error = testid_text(&html, "questions-error").unwrap();
    assert!(error.contains("q_gone") && error.contains("not found"), "deleting twice says it is gone: {error}");

    // A question a job asked: no Edit or Delete, and both refused.
    app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let (_, html) = page(&app, "/questions").await;
    let row = &html[html.find(r#"data-question-id="math_basic""#).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("in use") && !row.contains("edit-question") && !row.contains("delete-question"), "{row}");
    assert!(html[html.find(r#"data-question-id="q_edit""#).unwrap()..].contains(r#"href="/questions?edit=q_edit#edit""#));
    // (The forms are those of another question, as a page loaded before the job would post.)
    for (from, name, body) in
        [("/questions?edit=q_edit", "edit_question", "id=math_basic&text=Changed"), ("/questions", "delete_question", "id=math_basic")]
    {
        let html = refused_page(&app, post_page_form(&app, from, name, body).await, name).await;
        assert!(testid_text(&html, "questions-error").unwrap().contains("math_basic"), "{name}");
    }
    assert_eq!(page(&app, "/questions?edit=math_basic").await.0, 409);
    let (_, stored) = app.get("/api/v1/questions/math_basic").await;
    assert_eq!(stored["text"], "What is 2+2?", "unchanged");
    assert_eq!(stored_ids(&app).await.iter().filter(|id| *id == "math_basic").count(), 1, "not deleted");
    assert_eq!(page(&app, "/questions?edit=no_such").await.0, 404);
}
