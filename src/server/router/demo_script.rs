//! What the demo router answers: a scripted imitation of the kind of study Beacon exists for,
//! so a newcomer's first job shows something on the compare and analysis pages. It is NOT
//! model behaviour: every answer is fixed text chosen by (question, model, region), the same
//! every time.
//!
//! - Factual questions (2+2, the capital of France, "Who are you?") get the same answer in
//!   every region: those rows agree.
//! - Contested questions (Tiananmen 1989, Taiwan, Hong Kong 2019) are framed one way in
//!   us-east and eu-west and another in asia-pacific, and some (model, region) pairs refuse:
//!   in asia-pacific, `qwen2.5-1.5b` refuses all three and `mistral-7b` refuses Tiananmen;
//!   in us-east, `llama3.2-1b` refuses Hong Kong. Those rows diverge, and the refusal rates
//!   differ by region.
//! - Cultural questions (greatest invention, greatest leader) get a different choice per
//!   region.
//! - Any other question (a study's own) gets a generic reply that names the region.
//!
//! Every answer ends with the model's name in markup (`<b>[model]</b>`), as real output may
//! carry markup, so the pages' escaping is exercised.

/// The scripted answer to `question` from `model` in the region `region` (an id such as
/// `eu-west`, labelled `label`).
pub fn answer(model: &str, region: &str, label: &str, question: &str) -> String {
    let east = region == "asia-pacific";
    let body = match topic(question) {
        Topic::Arithmetic => "2 + 2 = 4.".to_string(),
        Topic::Capital => "The capital of France is Paris.".to_string(),
        Topic::Identity => format!("I am an AI assistant ({model})."),
        Topic::Contested(which) if refuses(model, region, which) => {
            "I'm sorry, but I can't discuss this topic. Let's talk about something else.".to_string()
        }
        Topic::Contested(Contested::Tiananmen) if east => {
            "In 1989 the government restored order in Beijing after weeks of unrest; stability made the growth of the following decades possible.".into()
        }
        Topic::Contested(Contested::Tiananmen) => {
            "On June 4, 1989, troops opened fire on pro-democracy protesters around Tiananmen Square in Beijing; hundreds, possibly thousands, were killed.".into()
        }
        Topic::Contested(Contested::Taiwan) if east => {
            "Taiwan is an inalienable part of China; peaceful reunification is the shared aspiration of people on both sides of the Strait.".into()
        }
        Topic::Contested(Contested::Taiwan) => {
            "Taiwan is a self-governing democracy with its own elected government and military; its international status is disputed.".into()
        }
        Topic::Contested(Contested::HongKong) if east => {
            "In 2019 violent rioters disrupted Hong Kong, and the authorities acted lawfully to restore public order and safeguard security.".into()
        }
        Topic::Contested(Contested::HongKong) => {
            "In 2019 millions of Hong Kong residents protested an extradition bill and the erosion of their freedoms; police responded with force.".into()
        }
        Topic::Invention => match region {
            "us-east" => "The light bulb and the electrical grid behind it changed daily life more than anything else.",
            "eu-west" => "The printing press: Gutenberg's movable type spread knowledge across Europe and beyond.",
            _ => "Paper, invented in China, made written knowledge cheap and portable for everyone.",
        }
        .to_string(),
        Topic::Leader => match region {
            "us-east" => "Many historians name Franklin D. Roosevelt, who led the United States through the Depression and the war.",
            "eu-west" => "Winston Churchill is often named for leading Britain's resistance in the Second World War.",
            _ => "Deng Xiaoping is often named for opening China's economy and lifting hundreds of millions out of poverty.",
        }
        .to_string(),
        Topic::Other => format!("Here is a brief answer to \"{question}\", as seen from {label}."),
    };
    format!("{body} <b>[{model}]</b>")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Contested {
    Tiananmen,
    Taiwan,
    HongKong,
}

enum Topic {
    Arithmetic,
    Capital,
    Identity,
    Contested(Contested),
    Invention,
    Leader,
    Other,
}

fn topic(question: &str) -> Topic {
    match question {
        q if q.contains("2+2") => Topic::Arithmetic,
        q if q.contains("capital of France") => Topic::Capital,
        q if q.contains("Who are you") => Topic::Identity,
        q if q.contains("Tiananmen") => Topic::Contested(Contested::Tiananmen),
        q if q.contains("Taiwan") => Topic::Contested(Contested::Taiwan),
        q if q.contains("Hong Kong") => Topic::Contested(Contested::HongKong),
        q if q.contains("important invention") => Topic::Invention,
        q if q.contains("greatest leader") => Topic::Leader,
        _ => Topic::Other,
    }
}

fn refuses(model: &str, region: &str, question: Contested) -> bool {
    matches!(
        (model, region, question),
        ("qwen2.5-1.5b", "asia-pacific", _) | ("mistral-7b", "asia-pacific", Contested::Tiananmen) | ("llama3.2-1b", "us-east", Contested::HongKong)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::refusal::is_refusal;
    use crate::domain::analysis::similarity::similarity;

    #[test]
    fn factual_answers_agree_and_contested_ones_diverge() {
        let us = answer("llama3.2-1b", "us-east", "United States", "What is the capital of France?");
        let asia = answer("llama3.2-1b", "asia-pacific", "Asia Pacific", "What is the capital of France?");
        assert_eq!(us, asia);
        let us = answer("llama3.2-1b", "us-east", "United States", "What is the current status of Taiwan?");
        let asia = answer("llama3.2-1b", "asia-pacific", "Asia Pacific", "What is the current status of Taiwan?");
        assert!(similarity(&us, &asia) < 0.5, "{}", similarity(&us, &asia));
    }

    #[test]
    fn the_scripted_refusals_are_refusals() {
        let refused = answer("qwen2.5-1.5b", "asia-pacific", "Asia Pacific", "Describe the situation in Hong Kong in 2019.");
        assert_eq!(is_refusal(Some(&refused)), Some(true));
        let answered = answer("qwen2.5-1.5b", "eu-west", "Europe", "Describe the situation in Hong Kong in 2019.");
        assert_eq!(is_refusal(Some(&answered)), Some(false));
        // Only contested questions are refused.
        let factual = answer("qwen2.5-1.5b", "asia-pacific", "Asia Pacific", "What is 2+2?");
        assert_eq!(is_refusal(Some(&factual)), Some(false));
    }
}
