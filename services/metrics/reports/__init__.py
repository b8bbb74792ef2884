"""What every report shares: its scope (cohort window, filters, breakdown), its config, CSV output."""
