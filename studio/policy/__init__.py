"""What each caller may do on this app: admin rights (access.py), public caps and the running
limit per visitor (limits.py), applied together by Studio (rules.py). No Gradio here."""
