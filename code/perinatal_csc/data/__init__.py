"""Data stage: the codebook, the synthetic cohort, loading and validating an export, derived variables.

Inside the stage: codebook -> synth -> validate -> mapping -> load -> derive (each module imports only
those before it; ``tests/test_architecture.py`` declares and checks the order).
"""
