"""Where a run's pending cells are computed: ``local`` (this process, model after model) or ``ray`` (one Ray
task per model); both run the same resume loop (:func:`overconf.run.resume.run_model_cells`)."""
