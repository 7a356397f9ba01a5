"""The pages the pipeline writes from Jinja2 templates: report.html (the report stage) and the model card (the
evaluate stage's release). Both stages import this package; neither imports the other."""
