//! The policy calculator in a real browser, on `gusu demo`: the enterprise finds its policies from
//! the navigation, opens a decision's trace, and a what-if loan changes the answer; the city
//! administrator writes a draft, simulates it over the city with a budget ceiling and publishes
//! it, and the enterprise finds the notice in its inbox; the draft's automatic list is confirmed
//! and exported; an application goes from the enterprise through Kunshan (which returns it for
//! more evidence) to the city, which grants it. Screenshots land in `<target>/e2e-screenshots/`.

mod e2e;

use e2e::{
    Demo, Driver, attr, click, fetch, fill, path, screenshot, select, sign_in, text, wait_for_path,
};
use fantoccini::Locator;

const CITY: usize = 3000;

/// Every enterprise graded in the demo's published 2024 run qualifies: 10 万元 each, automatic.
const DRAFT: &str = r#"[policy]
id = "demo-graded-award"
title_zh = "演示：已评价企业奖励"
title_en = "Demo: an award for graded enterprises"
issuer = "演示"
subject = "enterprise"
delivery = "automatic"
confidence = "L"
region = "3205"

[[parameter]]
name = "award_10k_yuan"
unit = "万元"
article = "demo"
confidence = "L"
illustrative = true
values = [{ from = "2025-01-01", value = 10 }]

[[version]]
id = "2025.1"
valid_from = "2025-01-01"
document = "demo"
published = "2025"
confidence = "L"

[[version.condition]]
id = "graded"
name_zh = "已评价"
name_en = "graded"
article = "demo"
when = "class_prev_year in ['A', 'B', 'C', 'D']"

[version.amount]
formula = "award_10k_yuan"
article = "demo"

[[test]]
name = "a graded firm"
date = "2025-06-30"
enterprise = { division = 30, years = [{ year = 2024, class = "B" }] }
expect = [{ status = "eligible", version = "2025.1", amount = 10.0 }]
"#;

async fn count(b: &fantoccini::Client, css: &str) -> usize {
    b.find_all(Locator::Css(css)).await.unwrap().len()
}

async fn number(b: &fantoccini::Client, css: &str) -> f64 {
    let t = b
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap();
    t.trim().parse().unwrap_or_else(|_| panic!("{css}: {t}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn policies_for_the_enterprise_and_a_published_draft_with_its_notice_and_list() {
    let demo = Demo::start(CITY);
    let driver = Driver::start();
    let base = &demo.url;

    // The enterprise finds its policies from the navigation.
    let qiye = driver.browser().await;
    sign_in(&qiye, base, "qiye").await;
    click(&qiye, "#nav-policies").await;
    wait_for_path(&qiye, |p| p == "/policies").await;
    assert!(count(&qiye, "#policy-library tbody tr").await >= 15);
    click(&qiye, "#my-policies").await;
    wait_for_path(&qiye, |p| {
        p.ends_with("/policies") && p.starts_with("/enterprises/")
    })
    .await;
    let mine = path(&qiye).await;
    let before = count(&qiye, "#decisions tbody > tr").await;
    assert!(before > 0);
    assert_eq!(count(&qiye, "tr[id$='-what-if']").await, 0);
    // A decision's trace: its conditions with the facts they read and their articles.
    click(&qiye, "#decisions details.trace summary").await;
    let trace = qiye
        .find(Locator::Css(
            "#decisions details.trace[open] table.trace-conditions",
        ))
        .await
        .unwrap();
    assert!(trace.is_displayed().await.unwrap());
    screenshot(&qiye, "policy-enterprise-trace").await;

    // What if: an equipment loan of 3000 万元 for an upgrade this November.
    select(&qiye, "#wi-kind", "upgrade").await;
    fill(&qiye, "#wi-date", "2026-11-20").await;
    fill(&qiye, "#wi-equipment-loan", "3000").await;
    click(&qiye, "#recompute").await;
    qiye.wait()
        .for_element(Locator::Css("#what-if-note"))
        .await
        .unwrap();
    assert!(
        count(&qiye, "#decisions tbody > tr").await > before,
        "the what-if project is decided"
    );
    let p09 = "#decision-jiangsu-manufacturing-loan-interest-what-if";
    let status = attr(&qiye, p09, "data-status").await;
    if status == "eligible" {
        // 2026.01: 2 percentage points × 3000 = 60.
        let amount = qiye
            .find(Locator::Css(&format!("{p09} td.amount .value")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(amount.trim(), "60.0");
    } else {
        assert!(!status.is_empty());
    }
    screenshot(&qiye, "policy-enterprise-what-if").await;
    // Nothing was stored: the page without the form has no what-if row.
    qiye.goto(&format!("{base}{mine}")).await.unwrap();
    assert_eq!(count(&qiye, "tr[id$='-what-if']").await, 0);

    // The city administrator writes a draft, simulates it with a ceiling of 1000 万元.
    let admin = driver.browser().await;
    sign_in(&admin, base, "admin").await;
    admin
        .goto(&format!("{base}/policies/drafts"))
        .await
        .unwrap();
    fill(&admin, "#draft-text", DRAFT).await;
    click(&admin, "#save-draft").await;
    wait_for_path(&admin, |p| p.starts_with("/policies/drafts/")).await;
    assert!(
        text(&admin).await.contains("全部通过"),
        "the draft's case passes"
    );
    fill(&admin, "#sim-date", "2025-06-30").await;
    fill(&admin, "#sim-ceiling", "1000").await;
    select(&admin, "#sim-rule", "pro_rata").await;
    click(&admin, "#run-simulation").await;
    admin
        .wait()
        .for_element(Locator::Css("#simulation"))
        .await
        .unwrap();
    let qualifying = number(&admin, "#sim-qualifying").await;
    assert!(qualifying > 100.0, "{qualifying}");
    assert_eq!(number(&admin, "#sim-total").await, qualifying * 10.0);
    assert_eq!(number(&admin, "#sim-paid").await, 1000.0);
    assert_eq!(number(&admin, "#sim-newly").await, qualifying);
    screenshot(&admin, "policy-draft-simulation").await;
    click(&admin, "#publish").await;
    admin
        .wait()
        .for_element(Locator::Css("#notices-sent"))
        .await
        .unwrap();
    assert_eq!(attr(&admin, "#published", "data-published").await, "true");
    let sent = number(&admin, "#notices-sent strong").await;
    assert_eq!(sent, qualifying);

    // The enterprise (graded in 2024) finds the notice in its inbox.
    qiye.goto(&format!("{base}/policies/notices"))
        .await
        .unwrap();
    qiye.wait()
        .for_element(Locator::Css(
            "#policy-notices tr[data-policy='demo-graded-award']",
        ))
        .await
        .unwrap();
    screenshot(&qiye, "policy-enterprise-notice").await;

    // The automatic list, confirmed and exported for the finance bureau.
    admin
        .goto(&format!(
            "{base}/policies/demo-graded-award/list?date=2025-06-30"
        ))
        .await
        .unwrap();
    assert_eq!(number(&admin, "#list-rows").await, qualifying);
    click(&admin, "#confirm-list").await;
    admin
        .wait()
        .for_element(Locator::Css("#confirmed-lists tr[data-seq='1']"))
        .await
        .unwrap();
    let href = attr(&admin, "#confirmed-lists a[id^='export-']", "href").await;
    let (status, kind, size) = fetch(&admin, &href).await;
    assert_eq!(status, 200);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    assert!(size > 1000);
    screenshot(&admin, "policy-automatic-list").await;
    // The take-up counts the notices.
    admin
        .goto(&format!("{base}/policies/take-up"))
        .await
        .unwrap();
    assert_eq!(
        number(&admin, "#take-up-demo-graded-award td.notified").await,
        qualifying
    );

    // An application for the city's smart-transformation award on the enterprise's 2023 loan:
    // submitted only with its evidence, returned by Kunshan for more, resubmitted, recommended,
    // granted by the city.
    qiye.goto(&format!("{base}{mine}")).await.unwrap();
    click(
        &qiye,
        "button.apply[id^='apply-suzhou-zgsz-loan-interest-D']",
    )
    .await;
    wait_for_path(&qiye, |p| p.starts_with("/policies/applications/")).await;
    let application = path(&qiye).await;
    assert_eq!(attr(&qiye, "#status", "data-status").await, "draft");
    assert_eq!(
        attr(&qiye, "#decision-now", "data-status").await,
        "eligible"
    );
    fill(&qiye, "#ev-1", "贷款合同 JS-2023-0117").await;
    click(&qiye, "#save-evidence").await;
    qiye.wait()
        .for_element(Locator::Css("#open-items"))
        .await
        .unwrap();
    click(&qiye, "#act-submit").await;
    qiye.wait()
        .for_element(Locator::Css("#error"))
        .await
        .unwrap();
    assert_eq!(
        attr(&qiye, "#status", "data-status").await,
        "draft",
        "evidence missing"
    );
    fill(&qiye, "#ev-2", "放款凭证 2023-05").await;
    click(&qiye, "#save-evidence").await;
    qiye.wait()
        .for_element(Locator::Css("#evidence-form"))
        .await
        .unwrap();
    click(&qiye, "#act-submit").await;
    qiye.wait()
        .for_element(Locator::Css("#status[data-status='submitted']"))
        .await
        .unwrap();

    let kunshan = driver.browser().await;
    sign_in(&kunshan, base, "kunshan").await;
    kunshan
        .goto(&format!("{base}/policies/applications"))
        .await
        .unwrap();
    click(&kunshan, "#policy-applications tbody a").await;
    wait_for_path(&kunshan, |p| p == application).await;
    fill(&kunshan, "#act-reason", "请补充加盖银行印章的放款凭证").await;
    click(&kunshan, "#act-return").await;
    kunshan
        .wait()
        .for_element(Locator::Css("#status[data-status='returned']"))
        .await
        .unwrap();
    screenshot(&kunshan, "policy-application-returned").await;

    qiye.refresh().await.unwrap();
    assert!(text(&qiye).await.contains("请补充加盖银行印章的放款凭证"));
    fill(&qiye, "#ev-2", "放款凭证 2023-05（银行盖章）").await;
    click(&qiye, "#save-evidence").await;
    qiye.wait()
        .for_element(Locator::Css("#evidence-form"))
        .await
        .unwrap();
    click(&qiye, "#act-submit").await;
    qiye.wait()
        .for_element(Locator::Css("#status[data-status='submitted']"))
        .await
        .unwrap();
    kunshan.refresh().await.unwrap();
    click(&kunshan, "#act-recommend").await;
    kunshan
        .wait()
        .for_element(Locator::Css("#status[data-status='recommended']"))
        .await
        .unwrap();
    admin.goto(&format!("{base}{application}")).await.unwrap();
    click(&admin, "#act-approve").await;
    admin
        .wait()
        .for_element(Locator::Css("#status[data-status='approved']"))
        .await
        .unwrap();
    let history = text(&admin).await;
    for step in ["提交区县审核", "退回修改", "推荐至市级", "批准兑现"] {
        assert!(history.contains(step), "{step}: {history}");
    }
    screenshot(&admin, "policy-application-granted").await;
    admin
        .goto(&format!("{base}/policies/take-up"))
        .await
        .unwrap();
    assert_eq!(
        number(&admin, "#take-up-suzhou-zgsz-loan-interest td.applied").await,
        1.0
    );
    assert_eq!(
        number(&admin, "#take-up-suzhou-zgsz-loan-interest td.granted").await,
        1.0
    );
    for b in [qiye, admin, kunshan] {
        b.close().await.unwrap();
    }
}
