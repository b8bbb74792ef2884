"""CRM owner write-back: one adapter per CRM behind `CrmAdapter` (HubSpot first)."""
