"""Running the job locally: `running.RunningPipeline` starts `python -m flink_job.main` in a
child process against a LocalAws (as Managed Flink runs it), feeds and watches it; `rest`
is the client of the mini-cluster's REST API (jobs, metrics, savepoints, cancel)."""
