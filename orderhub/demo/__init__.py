"""The demo company 台州恒驰汽配: generated, seeded and reproducible (`orderhub demo`)."""
