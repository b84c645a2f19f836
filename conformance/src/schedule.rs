//! Running cases concurrently and reporting each the moment it finishes.
//!
//! A [`Job`] is one case ready to run: its id, its description and the
//! future that grades it. [`run_jobs`] keeps up to `concurrency` of them in
//! flight on the caller's task, calls `on_finished` as each one finishes
//! (in finishing order, with a [`Progress`] count), and returns every result
//! in the order the jobs were given (catalogue order), whatever order they
//! finished in.
//!
//! Every source of cases builds jobs: the bundled suite's families, the
//! user's cassettes (`conform --cassettes`) and a target's run
//! (`conform --target`), so one scheduler and one printer serve them all.

use crate::grade::CaseResult;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;

/// A case's grading in progress. Not `Send`: jobs run on the caller's task
/// (the mocks they talk to run on the runtime's own tasks).
pub type Grading<'a> = Pin<Box<dyn Future<Output = CaseResult> + 'a>>;

/// One case, ready to run.
pub struct Job<'a> {
    /// The case's stable id (`openai.ga.text.turn`).
    pub id: String,
    /// What the case checks, one line.
    pub description: String,
    /// Runs and grades the case.
    pub run: Grading<'a>,
}

impl<'a> Job<'a> {
    /// A job for the case `id` that runs `run`.
    pub fn new(
        id: impl Into<String>,
        description: impl Into<String>,
        run: impl Future<Output = CaseResult> + 'a,
    ) -> Self {
        Job {
            id: id.into(),
            description: description.into(),
            run: Box::pin(run),
        }
    }
}

impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// How far a run has got, given with each finished case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Cases finished so far, this one included.
    pub finished: usize,
    /// Cases in the run.
    pub total: usize,
}

/// Runs `jobs` with at most `concurrency` in flight, calls `on_finished` with
/// each result as it finishes, and returns the results in the jobs' order.
pub async fn run_jobs<'a>(
    jobs: Vec<Job<'a>>,
    concurrency: NonZeroUsize,
    mut on_finished: impl FnMut(&CaseResult, Progress),
) -> Vec<CaseResult> {
    let total = jobs.len();
    let mut waiting = jobs.into_iter().enumerate();
    let mut running = FuturesUnordered::new();
    let mut results: Vec<Option<CaseResult>> = (0..total).map(|_| None).collect();
    let mut finished = 0;
    loop {
        while running.len() < concurrency.get() {
            let Some((index, job)) = waiting.next() else {
                break;
            };
            running.push(async move { (index, job.run.await) });
        }
        let Some((index, result)) = running.next().await else {
            break;
        };
        finished += 1;
        on_finished(&result, Progress { finished, total });
        results[index] = Some(result);
    }
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::{run_jobs, Job};
    use crate::grade::blank;
    use std::cell::Cell;
    use std::num::NonZeroUsize;
    use std::rc::Rc;
    use tokio::sync::oneshot;

    /// A job that waits for `after` (if any), then tells `then` it finished.
    fn chained(
        id: &str,
        after: Option<oneshot::Receiver<()>>,
        then: Option<oneshot::Sender<()>>,
    ) -> Job<'static> {
        let id = id.to_string();
        Job::new(id.clone(), "a test case", async move {
            if let Some(after) = after {
                let _ = after.await;
            }
            if let Some(then) = then {
                let _ = then.send(());
            }
            blank(id, "a test case")
        })
    }

    #[tokio::test]
    async fn results_come_back_in_job_order_and_are_reported_in_finishing_order() {
        let (fast_done, middle_waits) = oneshot::channel();
        let (middle_done, slow_waits) = oneshot::channel();
        let jobs = vec![
            chained("slow", Some(slow_waits), None),
            chained("fast", None, Some(fast_done)),
            chained("middle", Some(middle_waits), Some(middle_done)),
        ];
        let mut seen = Vec::new();
        let results = run_jobs(jobs, NonZeroUsize::new(3).unwrap(), |r, p| {
            seen.push((r.id.clone(), p.finished, p.total))
        })
        .await;
        let order: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(order, ["slow", "fast", "middle"]);
        let finishing: Vec<(&str, usize, usize)> = seen
            .iter()
            .map(|(id, n, t)| (id.as_str(), *n, *t))
            .collect();
        assert_eq!(
            finishing,
            [("fast", 1, 3), ("middle", 2, 3), ("slow", 3, 3)]
        );
    }

    #[tokio::test]
    async fn at_most_concurrency_jobs_are_in_flight() {
        let in_flight = Rc::new(Cell::new(0usize));
        let most = Rc::new(Cell::new(0usize));
        let jobs = (0..6)
            .map(|i| {
                let (in_flight, most) = (Rc::clone(&in_flight), Rc::clone(&most));
                let id = format!("case{i}");
                Job::new(id.clone(), "a test case", async move {
                    in_flight.set(in_flight.get() + 1);
                    most.set(most.get().max(in_flight.get()));
                    tokio::task::yield_now().await;
                    in_flight.set(in_flight.get() - 1);
                    blank(id, "a test case")
                })
            })
            .collect();
        let results = run_jobs(jobs, NonZeroUsize::new(2).unwrap(), |_, _| {}).await;
        assert_eq!(results.len(), 6);
        assert_eq!(most.get(), 2, "two jobs run side by side, never more");
    }
}
