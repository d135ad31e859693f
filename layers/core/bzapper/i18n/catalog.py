"""Every user-facing text, in every supported locale. The single source: no text lives anywhere else.

Placeholders use str.format syntax ({name}); each translation must use exactly the English placeholders
(tests/unit/test_i18n.py enforces it). Spanish uses neutral Latin American forms with "tú".
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- API errors -------------------------------------------------------------------------------------
    "error.unauthorized": {
        "en": "Missing or invalid API key.",
        "pt-BR": "Chave de API ausente ou inválida.",
        "es": "Falta la clave de API o no es válida.",
    },
    "error.forbidden": {
        "en": "This API key is not allowed to perform this action.",
        "pt-BR": "Esta chave de API não tem permissão para realizar esta ação.",
        "es": "Esta clave de API no tiene permiso para realizar esta acción.",
    },
    "error.not_found": {
        "en": "Resource not found.",
        "pt-BR": "Recurso não encontrado.",
        "es": "Recurso no encontrado.",
    },
    "error.route_not_found": {
        "en": "No route matches {method} {path}.",
        "pt-BR": "Nenhuma rota corresponde a {method} {path}.",
        "es": "Ninguna ruta coincide con {method} {path}.",
    },
    "error.method_not_allowed": {
        "en": "Method {method} is not allowed on {path}.",
        "pt-BR": "O método {method} não é permitido em {path}.",
        "es": "El método {method} no está permitido en {path}.",
    },
    "error.validation_failed": {
        "en": "The field '{param}' is invalid.",
        "pt-BR": "O campo '{param}' é inválido.",
        "es": "El campo '{param}' no es válido.",
    },
    "error.validation_missing": {
        "en": "The required field '{param}' is missing.",
        "pt-BR": "O campo obrigatório '{param}' não foi informado.",
        "es": "Falta el campo obligatorio '{param}'.",
    },
    "error.invalid_json": {
        "en": "The request body is not valid JSON.",
        "pt-BR": "O corpo da requisição não é um JSON válido.",
        "es": "El cuerpo de la solicitud no es un JSON válido.",
    },
    "error.invalid_recipient": {
        "en": "'{value}' is not a valid E.164 phone number or WhatsApp JID.",
        "pt-BR": "'{value}' não é um número de telefone E.164 nem um JID do WhatsApp válido.",
        "es": "'{value}' no es un número de teléfono E.164 ni un JID de WhatsApp válido.",
    },
    "error.unsupported_jid": {
        "en": "Unsupported recipient '{value}': only @s.whatsapp.net and @lid recipients are supported.",
        "pt-BR": ("Destinatário '{value}' não suportado: apenas destinatários @s.whatsapp.net e @lid são aceitos."),
        "es": "Destinatario '{value}' no admitido: solo se admiten destinatarios @s.whatsapp.net y @lid.",
    },
    "error.rate_limited": {
        "en": "Too many requests. Retry after {retry_after} s.",
        "pt-BR": "Muitas requisições. Tente novamente em {retry_after} s.",
        "es": "Demasiadas solicitudes. Inténtalo de nuevo en {retry_after} s.",
    },
    "error.instance_not_connected": {
        "en": "This number (instance) is disconnected. Reconnect it to keep sending messages.",
        "pt-BR": "Este número (instância) está desconectado. Reconecte-o para continuar enviando mensagens.",
        "es": "Este número (instancia) está desconectado. Vuelve a conectarlo para seguir enviando mensajes.",
    },
    "error.not_connected": {
        "en": "The instance is not connected right now. Try again in a few moments.",
        "pt-BR": "A instância não está conectada no momento. Tente novamente em instantes.",
        "es": "La instancia no está conectada en este momento. Inténtalo de nuevo en unos instantes.",
    },
    "error.no_number_available": {
        "en": "There is no connected number in this account.",
        "pt-BR": "Não há nenhum número conectado nesta conta.",
        "es": "No hay ningún número conectado en esta cuenta.",
    },
    "error.not_supported": {
        "en": "This feature is not supported (experimental).",
        "pt-BR": "Este recurso não é suportado (experimental).",
        "es": "Esta función no es compatible (experimental).",
    },
    "error.not_on_whatsapp": {
        "en": "The recipient is not on WhatsApp.",
        "pt-BR": "O destinatário não tem WhatsApp.",
        "es": "El destinatario no tiene WhatsApp.",
    },
    "error.insufficient_balance": {
        "en": "Insufficient credits. Top up your wallet to continue.",
        "pt-BR": "Créditos insuficientes. Recarregue sua carteira para continuar.",
        "es": "Créditos insuficientes. Recarga tu billetera para continuar.",
    },
    "error.idempotency_conflict": {
        "en": "This Idempotency-Key was already used with a different request.",
        "pt-BR": "Esta Idempotency-Key já foi usada em uma requisição diferente.",
        "es": "Esta Idempotency-Key ya se usó con una solicitud diferente.",
    },
    "error.idempotency_in_progress": {
        "en": "A request with this Idempotency-Key is still being processed. Retry later.",
        "pt-BR": ("Uma requisição com esta Idempotency-Key ainda está sendo processada. Tente novamente mais tarde."),
        "es": ("Una solicitud con esta Idempotency-Key todavía se está procesando. Inténtalo de nuevo más tarde."),
    },
    "error.idempotency_key_invalid": {
        "en": "Idempotency-Key must be 1 to 255 printable characters.",
        "pt-BR": "A Idempotency-Key deve ter de 1 a 255 caracteres imprimíveis.",
        "es": "La Idempotency-Key debe tener entre 1 y 255 caracteres imprimibles.",
    },
    "error.account_restricted": {
        "en": "This number has been restricted by WhatsApp.",
        "pt-BR": "Este número foi restringido pelo WhatsApp.",
        "es": "Este número fue restringido por WhatsApp.",
    },
    "error.test_mode_only": {
        "en": "This endpoint is only available with a test key (bz_test_).",
        "pt-BR": "Este endpoint só está disponível com uma chave de teste (bz_test_).",
        "es": "Este endpoint solo está disponible con una clave de prueba (bz_test_).",
    },
    "error.internal_error": {
        "en": "An unexpected error occurred. Contact support and include the request ID {request_id}.",
        "pt-BR": (
            "Ocorreu um erro inesperado. Entre em contato com o suporte e informe o ID da requisição {request_id}."
        ),
        "es": ("Ocurrió un error inesperado. Comunícate con soporte e indica el ID de la solicitud {request_id}."),
    },
    "error.payload_too_large": {
        "en": "The request body is too large.",
        "pt-BR": "O corpo da requisição é grande demais.",
        "es": "El cuerpo de la solicitud es demasiado grande.",
    },
    # --- CLI --------------------------------------------------------------------------------------------
    "cli.dev.ready": {
        "en": "The local stack is ready at {url}",
        "pt-BR": "O ambiente local está pronto em {url}",
        "es": "El entorno local está listo en {url}",
    },
    "cli.dev.stopping": {
        "en": "Stopping the local stack…",
        "pt-BR": "Encerrando o ambiente local…",
        "es": "Deteniendo el entorno local…",
    },
    "cli.account.created": {
        "en": "Account created: {account_id}",
        "pt-BR": "Conta criada: {account_id}",
        "es": "Cuenta creada: {account_id}",
    },
    "error.temporarily_unavailable": {
        "en": "The service is busy right now. Retry in a moment; nothing was charged.",
        "pt-BR": "O serviço está ocupado agora. Tente de novo em instantes; nada foi cobrado.",
        "es": "El servicio está ocupado ahora. Reintenta en un momento; no se cobró nada.",
    },
    "error.unsafe_url": {
        "en": "This URL cannot be used: {reason}.",
        "pt-BR": "Esta URL não pode ser usada: {reason}.",
        "es": "Esta URL no se puede usar: {reason}.",
    },
    "error.already_connected": {
        "en": "This instance is already connected to a number. Log out first to pair another one.",
        "pt-BR": "Esta instância já está conectada a um número. Desconecte antes de parear outro.",
        "es": "Esta instancia ya está conectada a un número. Cierra la sesión antes de vincular otro.",
    },
    "error.qr_not_ready": {
        "en": "The QR code is not ready yet. Try again in a second.",
        "pt-BR": "O QR code ainda não está pronto. Tente novamente em um segundo.",
        "es": "El código QR aún no está listo. Inténtalo de nuevo en un segundo.",
    },
    "error.engine_test_mode": {
        "en": "Test keys can only use the sandbox engine (engine: {engine} is for live keys).",
        "pt-BR": "Chaves de teste só podem usar o motor sandbox (engine: {engine} é para chaves live).",
        "es": "Las claves de prueba solo pueden usar el motor sandbox (engine: {engine} es para claves live).",
    },
    "error.limit_exceeded": {
        "en": "Your plan's limit for this resource is reached.",
        "pt-BR": "O limite do seu plano para este recurso foi atingido.",
        "es": "Se alcanzó el límite de tu plan para este recurso.",
    },
    "error.invalid_event_type": {
        "en": "Unknown event type in {param}.",
        "pt-BR": "Tipo de evento desconhecido em {param}.",
        "es": "Tipo de evento desconocido en {param}.",
    },
    "webhook.disabled_notice": {
        "en": "The webhook endpoint {url} failed for 3 days and was disabled. Fix it and enable it again.",
        "pt-BR": "O endpoint de webhook {url} falhou por 3 dias e foi desativado. Corrija-o e ative-o de novo.",
        "es": "El endpoint de webhook {url} falló durante 3 días y fue desactivado. Corrígelo y actívalo de nuevo.",
    },
    # --- Sandbox checkout page (test mode) -----------------------------------------------------------------
    "checkout.title": {
        "en": "bzapper sandbox checkout",
        "pt-BR": "Checkout de teste do bzapper",
        "es": "Checkout de prueba de bzapper",
    },
    "checkout.summary": {
        "en": "Top up {amount} by {method}. This is test mode: no real money moves.",
        "pt-BR": "Recarga de {amount} via {method}. Modo de teste: nenhum dinheiro real é movimentado.",
        "es": "Recarga de {amount} con {method}. Modo de prueba: no se mueve dinero real.",
    },
    "checkout.pay": {"en": "Complete payment", "pt-BR": "Concluir pagamento", "es": "Completar pago"},
    "checkout.fail": {"en": "Fail payment", "pt-BR": "Recusar pagamento", "es": "Rechazar pago"},
    "checkout.paid": {
        "en": "Payment received: the test wallet was credited.",
        "pt-BR": "Pagamento recebido: a carteira de teste foi creditada.",
        "es": "Pago recibido: se acreditó la billetera de prueba.",
    },
    "checkout.failed": {
        "en": "Payment failed: nothing was credited.",
        "pt-BR": "Pagamento recusado: nada foi creditado.",
        "es": "Pago rechazado: no se acreditó nada.",
    },
    "checkout.closed": {
        "en": "This checkout is no longer open ({status}).",
        "pt-BR": "Este checkout não está mais aberto ({status}).",
        "es": "Este checkout ya no está abierto ({status}).",
    },
    "checkout.not_found": {
        "en": "Checkout not found.",
        "pt-BR": "Checkout não encontrado.",
        "es": "Checkout no encontrado.",
    },
    "cli.wallet.credited": {
        "en": "Wallet {wallet} credited with {amount}; balance {balance}.",
        "pt-BR": "Carteira {wallet} creditada com {amount}; saldo {balance}.",
        "es": "Billetera {wallet} acreditada con {amount}; saldo {balance}.",
    },
    "error.invalid_signature": {
        "en": "The webhook signature is missing or invalid.",
        "pt-BR": "A assinatura do webhook está ausente ou é inválida.",
        "es": "La firma del webhook falta o no es válida.",
    },
}
