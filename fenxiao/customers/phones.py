def mask_phone(phone: str) -> str:
    """138****1234: what staff without `customers.view_customer_phone` see."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
