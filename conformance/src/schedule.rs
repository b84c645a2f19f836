//! Running cases concurrently and reporting each the moment it finishes.
//!
//! A [`Job`] is one case ready to run: its id, its description and the
//! future that grades it. [`run_jobs`] keeps up to `concurrency` of them in
//! flight on the caller's task, calls `on_finished` as each one finishes
//! (in finishing order, with a [`Progress`] count), and returns every result
//! in the order the jobs were given (catalogue order), whatever order they
//! finished in.
//!
//! Starting every case in the same instant makes a burst of work (mocks
//! starting, first replies synthesized) that delays the replies of the cases
//! around it and moves their latency figures. [`run_jobs_paced`] starts them
//! in a chosen order (the longest first, so that the run ends with short
//! ones) and a little apart ([`Pacing`]).
//!
//! A job that panics does not take the run down: [`Job::catching_panics`]
//! (applied by [`run_jobs`] to every job) turns the panic into a FAILED
//! result that names it, and the other jobs carry on.
//!
//! Every source of cases builds jobs: the bundled suite's families, the
//! user's cassettes (`conform --cassettes`) and a target's run
//! (`conform --target`), so one scheduler and one printer serve them all.

use crate::grade::{failed_result, CaseResult};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use std::any::Any;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::Instant;

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

    /// The same job, except that a panic while it runs becomes a FAILED
    /// result naming the panic instead of unwinding into the scheduler.
    pub fn catching_panics(self) -> Self {
        let Job {
            id,
            description,
            run,
        } = self;
        let (case, what) = (id.clone(), description.clone());
        let guarded = std::panic::AssertUnwindSafe(run)
            .catch_unwind()
            .map(move |outcome| {
                outcome.unwrap_or_else(|panic| {
                    failed_result(
                        &case,
                        &what,
                        format!("the case panicked: {}", panic_message(panic.as_ref())),
                    )
                })
            });
        Job::new(id, description, guarded)
    }
}

/// What a panic said, when it said it with a string (as `panic!` does).
fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned())
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
    /// Cases still running once this one finished (not counting those
    /// waiting for a free slot).
    pub running: usize,
}

/// How [`run_jobs_paced`] starts the jobs: in which order, how far apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pacing {
    /// Job indices in the order to start them; jobs it leaves out (or an
    /// index out of range, or repeated) fall back to job order after it.
    pub start_order: Vec<usize>,
    /// The least time between two starts (zero: as soon as a slot is free).
    pub spacing: Duration,
}

impl Pacing {
    /// The order the jobs of a run of `total` start in: `start_order`'s valid
    /// indices, each once, then the rest in job order.
    fn order(&self, total: usize) -> Vec<usize> {
        let mut taken = vec![false; total];
        let mut order = Vec::with_capacity(total);
        for &index in self
            .start_order
            .iter()
            .chain(&(0..total).collect::<Vec<_>>())
        {
            if index < total && !taken[index] {
                taken[index] = true;
                order.push(index);
            }
        }
        order
    }
}

/// Runs `jobs` with at most `concurrency` in flight, calls `on_finished` with
/// each result as it finishes, and returns the results in the jobs' order.
/// A job that panics gives a FAILED result (see [`Job::catching_panics`]).
pub async fn run_jobs<'a>(
    jobs: Vec<Job<'a>>,
    concurrency: NonZeroUsize,
    on_finished: impl FnMut(&CaseResult, Progress),
) -> Vec<CaseResult> {
    run_jobs_paced(jobs, concurrency, &Pacing::default(), on_finished).await
}

/// [`run_jobs`], starting the jobs in `pacing`'s order and at least its
/// spacing apart. Results still come back in the jobs' order.
pub async fn run_jobs_paced<'a>(
    jobs: Vec<Job<'a>>,
    concurrency: NonZeroUsize,
    pacing: &Pacing,
    mut on_finished: impl FnMut(&CaseResult, Progress),
) -> Vec<CaseResult> {
    let total = jobs.len();
    let mut jobs: Vec<Option<Job<'a>>> = jobs.into_iter().map(Some).collect();
    let mut waiting = pacing.order(total).into_iter().peekable();
    let mut running = FuturesUnordered::new();
    let mut results: Vec<Option<CaseResult>> = (0..total).map(|_| None).collect();
    let mut finished = 0;
    let mut next_start = Instant::now();
    loop {
        while running.len() < concurrency.get() && Instant::now() >= next_start {
            let Some(job) = waiting
                .next()
                .and_then(|index| Some((index, jobs[index].take()?)))
            else {
                break;
            };
            let (index, job) = (job.0, job.1.catching_panics());
            running.push(async move { (index, job.run.await) });
            next_start = Instant::now() + pacing.spacing;
        }
        let may_start = waiting.peek().is_some() && running.len() < concurrency.get();
        let done = if may_start {
            tokio::select! {
                done = running.next(), if !running.is_empty() => done,
                () = tokio::time::sleep_until(next_start) => continue,
            }
        } else {
            running.next().await
        };
        let Some((index, result)) = done else {
            break;
        };
        finished += 1;
        let progress = Progress {
            finished,
            total,
            running: running.len(),
        };
        on_finished(&result, progress);
        results[index] = Some(result);
    }
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::{run_jobs, run_jobs_paced, Job, Pacing};
    use crate::grade::{blank, Grade};
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
    async fn a_panicking_job_becomes_a_failed_result_and_the_others_still_run() {
        let jobs = vec![
            Job::new("boom", "a test case", async {
                panic!("the mock fell over");
            }),
            chained("fine", None, None),
        ];
        let results = run_jobs(jobs, NonZeroUsize::new(2).unwrap(), |_, _| {}).await;
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].id, "boom");
        assert_eq!(results[0].grade, Grade::Failed);
        let reason = results[0].reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("panicked") && reason.contains("the mock fell over"),
            "{reason}"
        );
        assert_eq!(results[1].grade, Grade::Ok);
    }

    #[tokio::test]
    async fn paced_jobs_start_in_the_given_order_and_spaced_apart() {
        let started = Rc::new(std::cell::RefCell::new(Vec::new()));
        let origin = tokio::time::Instant::now();
        let jobs = (0..4)
            .map(|i| {
                let started = Rc::clone(&started);
                let id = format!("case{i}");
                Job::new(id.clone(), "a test case", async move {
                    started.borrow_mut().push((i, origin.elapsed().as_millis()));
                    blank(id, "a test case")
                })
            })
            .collect();
        let pacing = Pacing {
            start_order: vec![3, 1, 7, 3],
            spacing: std::time::Duration::from_millis(100),
        };
        let results = run_jobs_paced(jobs, NonZeroUsize::new(4).unwrap(), &pacing, |_, _| {}).await;
        let order: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(order, ["case0", "case1", "case2", "case3"]);
        // Real time (no paused clock: `tokio/test-util` in the workspace
        // would split the quick start's two builds): the k-th job to start
        // starts no sooner than k × 100 ms after the origin.
        let started = started.borrow();
        let order: Vec<usize> = started.iter().map(|(i, _)| *i).collect();
        assert_eq!(
            order,
            [3, 1, 0, 2],
            "the given order (bad and repeated indices skipped), then the rest"
        );
        for (k, (i, at_ms)) in started.iter().enumerate() {
            assert!(
                *at_ms >= 100 * k as u128,
                "job {i}, started {k}th, started at {at_ms} ms: sooner than its {} ms",
                100 * k
            );
        }
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
