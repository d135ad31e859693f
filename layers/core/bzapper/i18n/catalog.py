"""Every user-facing text, in every supported locale. The single source: no text lives anywhere else.

Placeholders use str.format syntax ({name}); each translation must use exactly the English placeholders
(tests/unit/test_i18n.py enforces it). Spanish uses neutral Latin American forms with "tú".
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- API errors -------------------------------------------------------------------------------------
    "error.unauthorized": {
        "en": "Missing or invalid API key or session token.",
        "pt-BR": "Chave de API ou token de sessão ausente ou inválido.",
        "es": "Falta la clave de API o el token de sesión, o no es válido.",
    },
    "error.invalid_signature": {
        "en": "Missing or invalid Stripe-Signature header: it must be a recent signature of this exact body with the "
        "endpoint's webhook secret.",
        "pt-BR": "Cabeçalho Stripe-Signature ausente ou inválido: ele deve ser uma assinatura recente deste corpo "
        "exato com o segredo de webhook do endpoint.",
        "es": "Falta el encabezado Stripe-Signature o no es válido: debe ser una firma reciente de este cuerpo "
        "exacto con el secreto de webhook del endpoint.",
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
    "error.expected_digits": {
        "en": "The parameter '{param}' must be an integer written in decimal digits only (like 25).",
        "pt-BR": "O parâmetro '{param}' deve ser um inteiro escrito só com dígitos decimais (como 25).",
        "es": "El parámetro '{param}' debe ser un entero escrito solo con dígitos decimales (como 25).",
    },
    "error.expected_integer": {
        "en": "The field '{param}' must be a JSON integer (like 5, not \"5\" or 5.0).",
        "pt-BR": "O campo '{param}' deve ser um número inteiro JSON (como 5, não \"5\" nem 5.0).",
        "es": "El campo '{param}' debe ser un número entero JSON (como 5, no \"5\" ni 5.0).",
    },
    "error.expected_number": {
        "en": "The field '{param}' must be a JSON number (like 12.5, not \"12.5\").",
        "pt-BR": "O campo '{param}' deve ser um número JSON (como 12.5, não \"12.5\").",
        "es": "El campo '{param}' debe ser un número JSON (como 12.5, no \"12.5\").",
    },
    "error.expected_boolean": {
        "en": "The field '{param}' must be true or false (not 1 or \"true\").",
        "pt-BR": "O campo '{param}' deve ser true ou false (não 1 nem \"true\").",
        "es": "El campo '{param}' debe ser true o false (no 1 ni \"true\").",
    },
    "error.invalid_json": {
        "en": "The request body is not valid JSON.",
        "pt-BR": "O corpo da requisição não é um JSON válido.",
        "es": "El cuerpo de la solicitud no es un JSON válido.",
    },
    "error.body_not_object": {
        "en": "The request body must be a JSON object.",
        "pt-BR": "O corpo da requisição deve ser um objeto JSON.",
        "es": "El cuerpo de la solicitud debe ser un objeto JSON.",
    },
    "error.invalid_multipart": {
        "en": "The request body is not a valid multipart/form-data body (check its boundary and each part's headers).",
        "pt-BR": "O corpo da requisição não é um multipart/form-data válido (verifique o boundary e os cabeçalhos de "
        "cada parte).",
        "es": "El cuerpo de la solicitud no es un multipart/form-data válido (revisa el boundary y los encabezados de "
        "cada parte).",
    },
    "error.duplicate_key": {
        "en": "The field '{param}' appears more than once in the request body: give each field once.",
        "pt-BR": "O campo '{param}' aparece mais de uma vez no corpo da requisição: informe cada campo uma só vez.",
        "es": "El campo '{param}' aparece más de una vez en el cuerpo de la solicitud: indica cada campo una sola vez.",
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
    "error.unsupported_chat_jid": {
        "en": "Unsupported chat '{value}': conversations are with @s.whatsapp.net or @lid contacts, or @g.us groups.",
        "pt-BR": "Conversa '{value}' não suportada: as conversas são com contatos @s.whatsapp.net ou @lid, "
        "ou com grupos @g.us.",
        "es": "Chat '{value}' no admitido: las conversaciones son con contactos @s.whatsapp.net o @lid, "
        "o con grupos @g.us.",
    },
    "error.unsupported_destination": {
        "en": "Unsupported recipient '{value}': send to @s.whatsapp.net or @lid contacts, or to @g.us groups.",
        "pt-BR": "Destinatário '{value}' não suportado: envie a contatos @s.whatsapp.net ou @lid, ou a grupos @g.us.",
        "es": "Destinatario '{value}' no admitido: envía a contactos @s.whatsapp.net o @lid, o a grupos @g.us.",
    },
    "error.group_needs_instance": {
        "en": "Sending to a group needs 'instance_id': the number (in that group) that writes there.",
        "pt-BR": "Enviar a um grupo exige 'instance_id': o número (que está no grupo) que escreve nele.",
        "es": "Enviar a un grupo requiere 'instance_id': el número (que está en el grupo) que escribe en él.",
    },
    "error.group_not_found": {
        "en": "No such group for this number: it does not exist, or the number is not in it.",
        "pt-BR": "Grupo não encontrado para este número: ele não existe ou o número não participa dele.",
        "es": "No existe ese grupo para este número: no existe o el número no participa en él.",
    },
    "error.group_not_admin": {
        "en": "Only the group's admins may do this, and this number is not an admin of the group.",
        "pt-BR": "Só os administradores do grupo podem fazer isso, e este número não é administrador do grupo.",
        "es": "Solo los administradores del grupo pueden hacer esto, y este número no es administrador del grupo.",
    },
    "error.invite_link_invalid": {
        "en": "This invite link is not valid (mistyped, or revoked by the group's admins).",
        "pt-BR": "Este link de convite não é válido (digitado errado ou revogado pelos administradores do grupo).",
        "es": "Este enlace de invitación no es válido (mal escrito, o revocado por los administradores del grupo).",
    },
    "error.group_not_supported": {
        "en": "This number's WhatsApp engine cannot do this with groups yet.",
        "pt-BR": "O mecanismo de WhatsApp deste número ainda não consegue fazer isso com grupos.",
        "es": "El motor de WhatsApp de este número aún no puede hacer esto con grupos.",
    },
    # Profiles (docs/profiles.md)
    "error.contact_not_on_whatsapp": {
        "en": "This number is not on WhatsApp: there is no profile to show.",
        "pt-BR": "Este número não está no WhatsApp: não há perfil para mostrar.",
        "es": "Este número no está en WhatsApp: no hay perfil que mostrar.",
    },
    "error.profile_not_supported": {
        "en": "This number's WhatsApp engine cannot do this with profiles (docs/profiles.md lists what it can).",
        "pt-BR": "O mecanismo de WhatsApp deste número não consegue fazer isso com perfis (docs/profiles.md lista o "
        "que ele consegue).",
        "es": "El motor de WhatsApp de este número no puede hacer esto con perfiles (docs/profiles.md indica lo que "
        "puede).",
    },
    "error.profile_nothing_to_change": {
        "en": "Nothing to change: give push_name, about or picture_media_id.",
        "pt-BR": "Nada para mudar: informe push_name, about ou picture_media_id.",
        "es": "Nada que cambiar: indica push_name, about o picture_media_id.",
    },
    "error.profile_text_too_long": {
        "en": "The field '{param}' is too long: WhatsApp allows at most {max} characters.",
        "pt-BR": "O campo '{param}' é longo demais: o WhatsApp permite no máximo {max} caracteres.",
        "es": "El campo '{param}' es demasiado largo: WhatsApp permite como máximo {max} caracteres.",
    },
    "error.profile_text_control": {
        "en": "The field '{param}' must not contain control characters (such as NUL or line breaks).",
        "pt-BR": "O campo '{param}' não pode conter caracteres de controle (como NUL ou quebras de linha).",
        "es": "El campo '{param}' no puede contener caracteres de control (como NUL o saltos de línea).",
    },
    "error.profile_name_empty": {
        "en": "The profile name must have at least one visible character.",
        "pt-BR": "O nome do perfil precisa ter pelo menos um caractere visível.",
        "es": "El nombre del perfil debe tener al menos un carácter visible.",
    },
    "error.profile_picture_unknown": {
        "en": "No media of this account has this id: upload the picture with POST /media first.",
        "pt-BR": "Nenhuma mídia desta conta tem este id: envie a foto com POST /media antes.",
        "es": "Ningún archivo de esta cuenta tiene este id: sube la foto con POST /media primero.",
    },
    "error.profile_picture_type": {
        "en": "A profile or group picture must be a JPEG or PNG image.",
        "pt-BR": "A foto de perfil ou de grupo precisa ser uma imagem JPEG ou PNG.",
        "es": "La foto de perfil o de grupo debe ser una imagen JPEG o PNG.",
    },
    "error.profile_picture_size": {
        "en": "A profile or group picture may have at most {limit} bytes.",
        "pt-BR": "A foto de perfil ou de grupo pode ter no máximo {limit} bytes.",
        "es": "La foto de perfil o de grupo puede tener como máximo {limit} bytes.",
    },
    "error.profile_picture_rejected": {
        "en": "WhatsApp refused this picture: use a square JPEG (640x640 is what its apps send).",
        "pt-BR": "O WhatsApp recusou esta foto: use um JPEG quadrado (640x640 é o que os aplicativos dele enviam).",
        "es": "WhatsApp rechazó esta foto: usa un JPEG cuadrado (640x640 es lo que envían sus aplicaciones).",
    },
    "error.group_participants_count": {
        "en": "Give between 1 and {max} participants.",
        "pt-BR": "Informe de 1 a {max} participantes.",
        "es": "Indica entre 1 y {max} participantes.",
    },
    "error.group_nothing_to_change": {
        "en": "Nothing to change: give subject, description, picture, announce or locked.",
        "pt-BR": "Nada a alterar: informe subject, description, picture, announce ou locked.",
        "es": "Nada que cambiar: indica subject, description, picture, announce o locked.",
    },
    "error.invalid_group_jid": {
        "en": "'{value}' is not a valid WhatsApp group JID (like 120363025246125888@g.us).",
        "pt-BR": "'{value}' não é um JID de grupo do WhatsApp válido (como 120363025246125888@g.us).",
        "es": "'{value}' no es un JID de grupo de WhatsApp válido (como 120363025246125888@g.us).",
    },
    "error.rate_limited": {
        "en": "Too many requests. Retry after {retry_after} s.",
        "pt-BR": "Muitas requisições. Tente novamente em {retry_after} s.",
        "es": "Demasiadas solicitudes. Inténtalo de nuevo en {retry_after} s.",
    },
    "error.auth_failures": {
        "en": "Too many failed authentications from this address or with this key. Retry after {retry_after} s.",
        "pt-BR": (
            "Muitas autenticações falharam a partir deste endereço ou com esta chave. "
            "Tente novamente em {retry_after} s."
        ),
        "es": (
            "Demasiadas autenticaciones fallidas desde esta dirección o con esta clave. "
            "Inténtalo de nuevo en {retry_after} s."
        ),
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
    "error.outside_customer_service_window": {
        "en": "The contact has not written to this number in the last 24 hours, so WhatsApp only accepts a message "
        "template now: send one with POST /messages/template (the window opens again when the contact replies).",
        "pt-BR": "O contato não escreveu para este número nas últimas 24 horas, então o WhatsApp só aceita um "
        "modelo de mensagem agora: envie um com POST /messages/template (a janela abre de novo quando o contato "
        "responder).",
        "es": "El contacto no le ha escrito a este número en las últimas 24 horas, así que WhatsApp solo acepta "
        "una plantilla de mensaje ahora: envía una con POST /messages/template (la ventana se abre de nuevo cuando "
        "el contacto responda).",
    },
    "error.engine_not_supported": {
        "en": "Numbers of the '{engine}' engine cannot send messages of type '{type}'.",
        "pt-BR": "Números do motor '{engine}' não podem enviar mensagens do tipo '{type}'.",
        "es": "Los números del motor '{engine}' no pueden enviar mensajes del tipo '{type}'.",
    },
    "error.template_not_found": {
        "en": "This number has no template named '{name}' in the language '{language}' (the language must match "
        "exactly: see GET /templates).",
        "pt-BR": "Este número não tem um modelo chamado '{name}' no idioma '{language}' (o idioma deve ser "
        "exatamente o mesmo: veja GET /templates).",
        "es": "Este número no tiene una plantilla llamada '{name}' en el idioma '{language}' (el idioma debe "
        "coincidir exactamente: consulta GET /templates).",
    },
    "error.template_not_approved": {
        "en": "The template '{name}' ({language}) is {status}: only an approved template can be sent.",
        "pt-BR": "O modelo '{name}' ({language}) está {status}: só um modelo aprovado pode ser enviado.",
        "es": "La plantilla '{name}' ({language}) está {status}: solo se puede enviar una plantilla aprobada.",
    },
    "error.template_parameters_invalid": {
        "en": "The template's parameter '{param}' is invalid.",
        "pt-BR": "O parâmetro '{param}' do modelo é inválido.",
        "es": "El parámetro '{param}' de la plantilla no es válido.",
    },
    "error.template_parameters_invalid.shape": {
        "en": "'{param}' does not have the shape Meta's template components have (see docs/templates.md).",
        "pt-BR": "'{param}' não tem o formato dos componentes de modelo da Meta (veja docs/templates.md).",
        "es": "'{param}' no tiene la forma de los componentes de plantilla de Meta (consulta docs/templates.md).",
    },
    "error.template_parameters_invalid.component_type": {
        "en": "'{param}': '{type}' is not a component of a template send (header, body or button).",
        "pt-BR": "'{param}': '{type}' não é um componente de envio de modelo (header, body ou button).",
        "es": "'{param}': '{type}' no es un componente de envío de plantilla (header, body o button).",
    },
    "error.template_parameters_invalid.duplicate": {
        "en": "'{param}': this component is given twice.",
        "pt-BR": "'{param}': este componente foi informado duas vezes.",
        "es": "'{param}': este componente se indicó dos veces.",
    },
    "error.template_parameters_invalid.unknown_field": {
        "en": "'{param}' is not a field of a template parameter.",
        "pt-BR": "'{param}' não é um campo de parâmetro de modelo.",
        "es": "'{param}' no es un campo de parámetro de plantilla.",
    },
    "error.template_parameters_invalid.count": {
        "en": "'{param}': the template's {component} takes {expected} parameter(s), {given} given.",
        "pt-BR": "'{param}': o {component} do modelo recebe {expected} parâmetro(s), {given} informado(s).",
        "es": "'{param}': el {component} de la plantilla recibe {expected} parámetro(s), se indicaron {given}.",
    },
    "error.template_parameters_invalid.names": {
        "en": "'{param}': the template's variable '{missing}' is not filled (each named variable once, by "
        "parameter_name).",
        "pt-BR": "'{param}': a variável '{missing}' do modelo não foi preenchida (cada variável nomeada uma vez, "
        "por parameter_name).",
        "es": "'{param}': la variable '{missing}' de la plantilla no se completó (cada variable con nombre una "
        "vez, por parameter_name).",
    },
    "error.template_parameters_invalid.parameter_name": {
        "en": "'{param}': this template has named variables: each parameter needs its parameter_name.",
        "pt-BR": "'{param}': este modelo tem variáveis nomeadas: cada parâmetro precisa do seu parameter_name.",
        "es": "'{param}': esta plantilla tiene variables con nombre: cada parámetro necesita su parameter_name.",
    },
    "error.template_parameters_invalid.text": {
        "en": "'{param}' must be a non-empty text of at most {limit} characters.",
        "pt-BR": "'{param}' deve ser um texto não vazio de no máximo {limit} caracteres.",
        "es": "'{param}' debe ser un texto no vacío de como máximo {limit} caracteres.",
    },
    "error.template_parameters_invalid.currency_code": {
        "en": "'{param}' must be an ISO 4217 currency code (like BRL or USD).",
        "pt-BR": "'{param}' deve ser um código de moeda ISO 4217 (como BRL ou USD).",
        "es": "'{param}' debe ser un código de moneda ISO 4217 (como BRL o USD).",
    },
    "error.template_parameters_invalid.integer": {
        "en": "'{param}' must be a JSON integer (the amount times 1000).",
        "pt-BR": "'{param}' deve ser um número inteiro JSON (o valor vezes 1000).",
        "es": "'{param}' debe ser un número entero JSON (el monto por 1000).",
    },
    "error.template_parameters_invalid.parameter_type": {
        "en": "'{param}' must be of type {expected} here ({variable}).",
        "pt-BR": "'{param}' deve ser do tipo {expected} aqui ({variable}).",
        "es": "'{param}' debe ser del tipo {expected} aquí ({variable}).",
    },
    "error.template_parameters_invalid.unexpected": {
        "en": "'{param}': the template has no variable in its {component}: leave this component out.",
        "pt-BR": "'{param}': o modelo não tem variável no seu {component}: deixe este componente de fora.",
        "es": "'{param}': la plantilla no tiene variables en su {component}: omite este componente.",
    },
    "error.template_parameters_invalid.media": {
        "en": "'{param}' needs exactly one of 'id' (a file uploaded with POST /media) and 'link'.",
        "pt-BR": "'{param}' precisa de exatamente um entre 'id' (um arquivo enviado com POST /media) e 'link'.",
        "es": "'{param}' necesita exactamente uno de 'id' (un archivo subido con POST /media) y 'link'.",
    },
    "error.template_parameters_invalid.media_id": {
        "en": "'{param}' must be the id of a file uploaded with POST /media (med_…).",
        "pt-BR": "'{param}' deve ser o id de um arquivo enviado com POST /media (med_…).",
        "es": "'{param}' debe ser el id de un archivo subido con POST /media (med_…).",
    },
    "error.template_parameters_invalid.media_file": {
        "en": "'{param}' names no file of this account that can be sent as {kind}.",
        "pt-BR": "'{param}' não indica nenhum arquivo desta conta que possa ser enviado como {kind}.",
        "es": "'{param}' no indica ningún archivo de esta cuenta que se pueda enviar como {kind}.",
    },
    "error.template_parameters_invalid.link": {
        "en": "'{param}' must be a public http(s) URL of at most 2048 characters.",
        "pt-BR": "'{param}' deve ser uma URL http(s) pública de no máximo 2048 caracteres.",
        "es": "'{param}' debe ser una URL http(s) pública de como máximo 2048 caracteres.",
    },
    "error.template_parameters_invalid.button_index": {
        "en": "'{param}' must be the index of one of the template's {count} button(s), from 0.",
        "pt-BR": "'{param}' deve ser o índice de um dos {count} botão(ões) do modelo, a partir de 0.",
        "es": "'{param}' debe ser el índice de uno de los {count} botón(es) de la plantilla, desde 0.",
    },
    "error.template_parameters_invalid.sub_type": {
        "en": "'{param}': the template's button {index} is sent with sub_type '{expected}'.",
        "pt-BR": "'{param}': o botão {index} do modelo é enviado com sub_type '{expected}'.",
        "es": "'{param}': el botón {index} de la plantilla se envía con sub_type '{expected}'.",
    },
    "error.template_parameters_invalid.missing": {
        "en": "'{param}': the template's {component} has variables: add its component with their values.",
        "pt-BR": "'{param}': o {component} do modelo tem variáveis: adicione o componente com os valores delas.",
        "es": "'{param}': el {component} de la plantilla tiene variables: agrega su componente con sus valores.",
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
    "error.idempotency_not_supported": {
        "en": "This operation does not take an Idempotency-Key: send it without one (see the API reference for "
        "the operations that do).",
        "pt-BR": "Esta operação não aceita Idempotency-Key: envie sem ela (a referência da API lista as operações "
        "que aceitam).",
        "es": "Esta operación no acepta Idempotency-Key: envíela sin ella (la referencia de la API enumera las "
        "operaciones que la aceptan).",
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
    "error.bad_request": {
        "en": "The request is malformed.",
        "pt-BR": "A requisição está malformada.",
        "es": "La solicitud está mal formada.",
    },
    "error.duplicate_header": {
        "en": "The header '{param}' must be sent once, with one value.",
        "pt-BR": "O cabeçalho '{param}' deve ser enviado uma única vez, com um só valor.",
        "es": "El encabezado '{param}' debe enviarse una sola vez, con un solo valor.",
    },
    "error.engine_unavailable": {
        "en": "No worker here runs the {engine} engine, so this number cannot be paired yet. Locally, start "
        "'bzapper dev --engine whatsmeow' for live numbers; test numbers use the sandbox.",
        "pt-BR": "Nenhum worker aqui executa o motor {engine}, então este número ainda não pode ser pareado. "
        "Localmente, inicie 'bzapper dev --engine whatsmeow' para números reais; números de teste usam o sandbox.",
        "es": "Ningún worker aquí ejecuta el motor {engine}, así que este número aún no se puede vincular. "
        "Localmente, inicia 'bzapper dev --engine whatsmeow' para números reales; los de prueba usan el sandbox.",
    },
    "error.content_encoding": {
        "en": "Send the body uncompressed: Content-Encoding is not accepted (only 'identity').",
        "pt-BR": "Envie o corpo sem compressão: Content-Encoding não é aceito (só 'identity').",
        "es": "Envía el cuerpo sin comprimir: Content-Encoding no se acepta (solo 'identity').",
    },
    "error.duplicate_file_part": {
        "en": "Send one file per upload: the form has more than one 'file' part.",
        "pt-BR": "Envie um arquivo por upload: o formulário tem mais de uma parte 'file'.",
        "es": "Envía un archivo por subida: el formulario tiene más de una parte 'file'.",
    },
    "error.duplicate_query": {
        "en": "The query parameter '{param}' must be sent once.",
        "pt-BR": "O parâmetro de consulta '{param}' deve ser enviado uma única vez.",
        "es": "El parámetro de consulta '{param}' debe enviarse una sola vez.",
    },
    "error.malformed_http": {
        "en": "The request is not valid HTTP: a header holds a forbidden character, or the request line is broken.",
        "pt-BR": (
            "A requisição não é HTTP válido: um cabeçalho contém um caractere proibido, "
            "ou a linha da requisição está quebrada."
        ),
        "es": (
            "La solicitud no es HTTP válido: un encabezado contiene un carácter prohibido, "
            "o la línea de la solicitud está rota."
        ),
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
    "cli.dev.whatsmeow_missing": {
        "en": "The whatsmeow engine needs its extra: pip install -e '.[local,whatsmeow]'",
        "pt-BR": "O motor whatsmeow precisa do seu extra: pip install -e '.[local,whatsmeow]'",
        "es": "El motor whatsmeow necesita su extra: pip install -e '.[local,whatsmeow]'",
    },
    "cli.dev.scan_qr": {
        "en": "Scan with WhatsApp › Settings › Linked devices › Link a device (it changes every ~20 s):",
        "pt-BR": "Escaneie no WhatsApp › Configurações › Aparelhos conectados › Conectar aparelho (muda a cada ~20 s):",
        "es": "Escanea en WhatsApp › Ajustes › Dispositivos vinculados › Vincular un dispositivo (cambia cada ~20 s):",
    },
    "cli.dev.phone_connected": {
        "en": "Phone {phone} connected: send with BZ_LIVE_KEY and BZ_LIVE_INSTANCE.",
        "pt-BR": "Telefone {phone} conectado: envie com BZ_LIVE_KEY e BZ_LIVE_INSTANCE.",
        "es": "Teléfono {phone} conectado: envía con BZ_LIVE_KEY y BZ_LIVE_INSTANCE.",
    },
    "cli.dev.stopping": {
        "en": "Stopping the local stack…",
        "pt-BR": "Encerrando o ambiente local…",
        "es": "Deteniendo el entorno local…",
    },
    "cli.dev.email": {
        "en": "Email to {to}: {subject}",
        "pt-BR": "E-mail para {to}: {subject}",
        "es": "Correo para {to}: {subject}",
    },
    "cli.dev.console": {
        "en": "Console: {url}",
        "pt-BR": "Console: {url}",
        "es": "Consola: {url}",
    },
    "cli.dev.credits": {
        "en": "credits: {credits} (test)",
        "pt-BR": "créditos: {credits} (teste)",
        "es": "créditos: {credits} (prueba)",
    },
    "cli.dev.env": {
        "en": "environment: source {path}",
        "pt-BR": "variáveis: source {path}",
        "es": "variables: source {path}",
    },
    "cli.error.engine": {
        "en": "--engine: use sandbox or whatsmeow.",
        "pt-BR": "--engine: use sandbox ou whatsmeow.",
        "es": "--engine: usa sandbox o whatsmeow.",
    },
    "cli.error.locale": {
        "en": "--locale {value}: use one of {choices}.",
        "pt-BR": "--locale {value}: use um destes: {choices}.",
        "es": "--locale {value}: usa uno de estos: {choices}.",
    },
    "cli.error.mode": {
        "en": "--mode: use test or live.",
        "pt-BR": "--mode: use test ou live.",
        "es": "--mode: usa test o live.",
    },
    "cli.error.reason": {
        "en": "--reason: a reason is required.",
        "pt-BR": "--reason: o motivo é obrigatório.",
        "es": "--reason: el motivo es obligatorio.",
    },
    "cli.error.no_stack": {
        "en": "{path} not found: is `bzapper dev` running?",
        "pt-BR": "{path} não encontrado: o `bzapper dev` está rodando?",
        "es": "No se encontró {path}: ¿está corriendo `bzapper dev`?",
    },
    "cli.help.app": {
        "en": "bzapper: WhatsApp messaging API.",
        "pt-BR": "bzapper: API de mensagens do WhatsApp.",
        "es": "bzapper: API de mensajería de WhatsApp.",
    },
    "cli.help.accounts": {"en": "Manage accounts.", "pt-BR": "Gerenciar contas.", "es": "Administrar cuentas."},
    "cli.help.wallet": {
        "en": "Operate on wallets (every change is a ledger entry).",
        "pt-BR": "Operar carteiras (cada mudança é um lançamento no extrato).",
        "es": "Operar billeteras (cada cambio es un asiento en el libro).",
    },
    "cli.help.state_dir": {
        "en": "Where the local stack keeps its files.",
        "pt-BR": "Onde o ambiente local guarda seus arquivos.",
        "es": "Dónde guarda sus archivos el entorno local.",
    },
    "cli.help.dev": {
        "en": "Run the whole system locally: moto, the API, the pollers, the session worker, the sandbox network.",
        "pt-BR": "Rodar o sistema inteiro localmente: moto, a API, os pollers, o worker de sessões, a rede sandbox.",
        "es": "Ejecutar todo el sistema localmente: moto, la API, los pollers, el worker de sesiones, la red sandbox.",
    },
    "cli.help.port": {"en": "API port.", "pt-BR": "Porta da API.", "es": "Puerto de la API."},
    "cli.help.host": {
        "en": "Interface to listen on.",
        "pt-BR": "Interface em que escutar.",
        "es": "Interfaz en la que escuchar.",
    },
    "cli.help.engine": {
        "en": "sandbox (default), or whatsmeow: also a live instance on a real phone, paired from a QR here.",
        "pt-BR": "sandbox (padrão) ou whatsmeow: também uma instância live num telefone real, pareada por um QR aqui.",
        "es": "sandbox (predeterminado) o whatsmeow: también una instancia live en un teléfono real, vinculada "
        "con un QR aquí.",
    },
    "cli.help.worker": {
        "en": "Run a session worker (what the Fargate service runs).",
        "pt-BR": "Rodar um worker de sessões (o que o serviço Fargate roda).",
        "es": "Ejecutar un worker de sesiones (lo que ejecuta el servicio Fargate).",
    },
    "cli.help.accounts_list": {
        "en": "List every account (JSON lines).",
        "pt-BR": "Lista todas as contas (linhas JSON).",
        "es": "Lista todas las cuentas (líneas JSON).",
    },
    "cli.help.accounts_show": {
        "en": "Show an account, its balances and its numbers.",
        "pt-BR": "Mostra uma conta, seus saldos e seus números.",
        "es": "Muestra una cuenta, sus saldos y sus números.",
    },
    "cli.help.accounts_suspend": {
        "en": "Suspend an account: its keys and sessions are refused, its queued sends held.",
        "pt-BR": "Suspende uma conta: suas chaves e sessões são recusadas, seus envios na fila ficam retidos.",
        "es": "Suspende una cuenta: sus claves y sesiones se rechazan, sus envíos en cola quedan retenidos.",
    },
    "cli.help.accounts_unsuspend": {
        "en": "Make a suspended account active again.",
        "pt-BR": "Reativa uma conta suspensa.",
        "es": "Reactiva una cuenta suspendida.",
    },
    "cli.help.limit": {
        "en": "How many to read per page.",
        "pt-BR": "Quantos ler por página.",
        "es": "Cuántos leer por página.",
    },
    "cli.help.accounts_create": {
        "en": "Create an account with a test key and a connected sandbox instance on the running local stack.",
        "pt-BR": "Criar uma conta com uma chave de teste e uma instância sandbox conectada no ambiente local em "
        "execução.",
        "es": "Crear una cuenta con una clave de prueba y una instancia sandbox conectada en el entorno local en "
        "ejecución.",
    },
    "cli.help.name": {"en": "Account name.", "pt-BR": "Nome da conta.", "es": "Nombre de la cuenta."},
    "cli.help.locale": {"en": "pt-BR, en or es.", "pt-BR": "pt-BR, en ou es.", "es": "pt-BR, en o es."},
    "cli.help.credits": {
        "en": "Test credits to start with.",
        "pt-BR": "Créditos de teste iniciais.",
        "es": "Créditos de prueba iniciales.",
    },
    "cli.help.wallet_credit": {
        "en": "Credit (or debit) an account's wallet with a ledger entry.",
        "pt-BR": "Creditar (ou debitar) a carteira de uma conta com um lançamento no extrato.",
        "es": "Acreditar (o debitar) la billetera de una cuenta con un asiento en el libro.",
    },
    "cli.help.account_id": {"en": "The account (acct_…).", "pt-BR": "A conta (acct_…).", "es": "La cuenta (acct_…)."},
    "cli.help.amount": {
        "en": "Centavos; negative to debit.",
        "pt-BR": "Centavos; negativo para debitar.",
        "es": "Centavos; negativo para debitar.",
    },
    "cli.help.reason": {
        "en": "Why: recorded in the ledger entry.",
        "pt-BR": "Por quê: fica registrado no lançamento.",
        "es": "Por qué: queda registrado en el asiento.",
    },
    "cli.help.mode": {"en": "test or live wallet.", "pt-BR": "Carteira test ou live.", "es": "Billetera test o live."},
    "cli.help.openapi": {
        "en": "Print the OpenAPI document generated from the function apps.",
        "pt-BR": "Imprimir o documento OpenAPI gerado a partir dos apps das funções.",
        "es": "Imprimir el documento OpenAPI generado a partir de las apps de las funciones.",
    },
    "cli.help.output": {
        "en": "File to write (default stdout).",
        "pt-BR": "Arquivo a escrever (padrão: stdout).",
        "es": "Archivo a escribir (predeterminado: stdout).",
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
    # The SSRF guard's refusals (net.UnsafeUrl codes), one text each so no English reason is inserted.
    "error.unsafe_url.scheme": {
        "en": "This URL cannot be used: only http(s) URLs with a host are accepted.",
        "pt-BR": "Esta URL não pode ser usada: só são aceitas URLs http(s) com um host.",
        "es": "Esta URL no se puede usar: solo se aceptan URLs http(s) con un host.",
    },
    "error.unsafe_url.https_required": {
        "en": "This URL cannot be used: https is required.",
        "pt-BR": "Esta URL não pode ser usada: é obrigatório usar https.",
        "es": "Esta URL no se puede usar: se requiere https.",
    },
    "error.unsafe_url.credentials": {
        "en": "This URL cannot be used: credentials in URLs are not allowed.",
        "pt-BR": "Esta URL não pode ser usada: credenciais em URLs não são permitidas.",
        "es": "Esta URL no se puede usar: no se permiten credenciales en las URLs.",
    },
    "error.unsafe_url.unresolvable": {
        "en": "This URL cannot be used: the host does not resolve.",
        "pt-BR": "Esta URL não pode ser usada: o host não resolve para nenhum endereço.",
        "es": "Esta URL no se puede usar: el host no se resuelve.",
    },
    "error.unsafe_url.private": {
        "en": "This URL cannot be used: it points to a private address.",
        "pt-BR": "Esta URL não pode ser usada: ela aponta para um endereço privado.",
        "es": "Esta URL no se puede usar: apunta a una dirección privada.",
    },
    "error.unsafe_url.link_local": {
        "en": "This URL cannot be used: it points to a link-local or metadata address.",
        "pt-BR": "Esta URL não pode ser usada: ela aponta para um endereço link-local ou de metadados.",
        "es": "Esta URL no se puede usar: apunta a una dirección link-local o de metadatos.",
    },
    "error.unsafe_url.loopback": {
        "en": "This URL cannot be used: it points to a loopback address.",
        "pt-BR": "Esta URL não pode ser usada: ela aponta para um endereço de loopback.",
        "es": "Esta URL no se puede usar: apunta a una dirección de loopback.",
    },
    "error.unsafe_url.reserved": {
        "en": "This URL cannot be used: it points to an address reserved for special use, not reachable on the "
        "internet.",
        "pt-BR": "Esta URL não pode ser usada: ela aponta para um endereço reservado para uso especial, que não é "
        "alcançável pela internet.",
        "es": "Esta URL no se puede usar: apunta a una dirección reservada para usos especiales, no accesible desde "
        "internet.",
    },
    "error.unsafe_url.malformed": {
        "en": "This URL cannot be used: it is not well formed. The host must be a domain name, an IPv4 address "
        "written as four decimal numbers (1.2.3.4) or an IPv6 address in brackets, with no spaces, control "
        "characters, percent signs or trailing dot.",
        "pt-BR": "Esta URL não pode ser usada: ela está malformada. O host deve ser um nome de domínio, um endereço "
        "IPv4 escrito como quatro números decimais (1.2.3.4) ou um endereço IPv6 entre colchetes, sem espaços, "
        "caracteres de controle, sinais de porcentagem nem ponto no fim.",
        "es": "Esta URL no se puede usar: está mal formada. El host debe ser un nombre de dominio, una dirección IPv4 "
        "escrita como cuatro números decimales (1.2.3.4) o una dirección IPv6 entre corchetes, sin espacios, "
        "caracteres de control, signos de porcentaje ni punto al final.",
    },
    "error.unsafe_url.port": {
        "en": "This URL cannot be used: its port must be a number from 1 to 65535.",
        "pt-BR": "Esta URL não pode ser usada: a porta deve ser um número de 1 a 65535.",
        "es": "Esta URL no se puede usar: el puerto debe ser un número del 1 al 65535.",
    },
    # --- Message types, media, edits and deletions (docs/messages.md) ---------------------------------
    "error.interactive_not_enabled": {
        "en": "Buttons and lists are experimental (WhatsApp restricts them): they need the "
        "experimental_interactive_messages entitlement. See GET /me/entitlements.",
        "pt-BR": "Botões e listas são experimentais (o WhatsApp os restringe): exigem o recurso "
        "experimental_interactive_messages. Veja GET /me/entitlements.",
        "es": "Los botones y las listas son experimentales (WhatsApp los restringe): requieren la función "
        "experimental_interactive_messages. Consulta GET /me/entitlements.",
    },
    "error.message_reference_invalid": {
        "en": "'{param}' must be a message id (msg_…) or a WhatsApp message id.",
        "pt-BR": "'{param}' deve ser um id de mensagem (msg_…) ou um id de mensagem do WhatsApp.",
        "es": "'{param}' debe ser un id de mensaje (msg_…) o un id de mensaje de WhatsApp.",
    },
    "error.message_reference_unknown": {
        "en": "'{param}' names no message of this number.",
        "pt-BR": "'{param}' não corresponde a nenhuma mensagem deste número.",
        "es": "'{param}' no corresponde a ningún mensaje de este número.",
    },
    "error.message_reference_other_chat": {
        "en": "'{param}' names a message of another conversation than 'to'.",
        "pt-BR": "'{param}' corresponde a uma mensagem de outra conversa, não a de 'to'.",
        "es": "'{param}' corresponde a un mensaje de otra conversación, no la de 'to'.",
    },
    "error.reaction_emoji": {
        "en": "'emoji' must be a single emoji, or \"\" to remove the reaction.",
        "pt-BR": "'emoji' deve ser um único emoji, ou \"\" para remover a reação.",
        "es": "'emoji' debe ser un solo emoji, o \"\" para quitar la reacción.",
    },
    "error.poll_options_unique": {
        "en": "Poll options must be different from each other.",
        "pt-BR": "As opções da enquete devem ser diferentes entre si.",
        "es": "Las opciones de la encuesta deben ser distintas entre sí.",
    },
    "error.poll_selectable_count": {
        "en": "'selectable_count' must be between 1 and the number of options.",
        "pt-BR": "'selectable_count' deve estar entre 1 e o número de opções.",
        "es": "'selectable_count' debe estar entre 1 y la cantidad de opciones.",
    },
    "error.duplicate_ids": {
        "en": "The ids in '{param}' must be unique.",
        "pt-BR": "Os ids em '{param}' devem ser únicos.",
        "es": "Los ids en '{param}' deben ser únicos.",
    },
    "error.list_rows": {
        "en": "A list may have at most {limit} rows in all its sections.",
        "pt-BR": "Uma lista pode ter no máximo {limit} linhas somando todas as seções.",
        "es": "Una lista puede tener como máximo {limit} filas sumando todas sus secciones.",
    },
    "error.media_source": {
        "en": "Give exactly one of 'url' and 'media_id'.",
        "pt-BR": "Informe exatamente um entre 'url' e 'media_id'.",
        "es": "Indica exactamente uno entre 'url' y 'media_id'.",
    },
    "error.media_empty": {
        "en": "The file is empty.",
        "pt-BR": "O arquivo está vazio.",
        "es": "El archivo está vacío.",
    },
    "error.media_too_large": {
        "en": "The file is too large: at most {limit} bytes here.",
        "pt-BR": "O arquivo é grande demais: no máximo {limit} bytes aqui.",
        "es": "El archivo es demasiado grande: como máximo {limit} bytes aquí.",
    },
    "error.media_wrong_type": {
        "en": "A file of type {mime_type} cannot be sent as {kind}; accepted: {allowed}.",
        "pt-BR": "Um arquivo do tipo {mime_type} não pode ser enviado como {kind}; aceitos: {allowed}.",
        "es": "Un archivo de tipo {mime_type} no se puede enviar como {kind}; se aceptan: {allowed}.",
    },
    "error.media_voice_not_opus": {
        "en": "A voice note must be an OGG file with Opus audio.",
        "pt-BR": "Uma mensagem de voz deve ser um arquivo OGG com áudio Opus.",
        "es": "Una nota de voz debe ser un archivo OGG con audio Opus.",
    },
    "error.media_not_found": {
        "en": "No media with this id in this account (upload it with POST /media first).",
        "pt-BR": "Nenhuma mídia com este id nesta conta (envie-a antes com POST /media).",
        "es": "No hay ningún medio con este id en esta cuenta (súbelo antes con POST /media).",
    },
    # Why a media URL could not be fetched (adapters.http.FetchFailed reasons), one text each.
    "error.media_fetch_failed.http_status": {
        "en": "The file could not be downloaded from the URL: it answered HTTP {status}.",
        "pt-BR": "Não foi possível baixar o arquivo da URL: ela respondeu HTTP {status}.",
        "es": "No se pudo descargar el archivo desde la URL: respondió HTTP {status}.",
    },
    "error.media_fetch_failed.timeout": {
        "en": "The file could not be downloaded from the URL: it took too long.",
        "pt-BR": "Não foi possível baixar o arquivo da URL: demorou demais.",
        "es": "No se pudo descargar el archivo desde la URL: tardó demasiado.",
    },
    "error.media_fetch_failed.network": {
        "en": "The file could not be downloaded from the URL: the connection failed.",
        "pt-BR": "Não foi possível baixar o arquivo da URL: a conexão falhou.",
        "es": "No se pudo descargar el archivo desde la URL: la conexión falló.",
    },
    "error.media_fetch_failed.redirects": {
        "en": "The file could not be downloaded from the URL: too many redirects.",
        "pt-BR": "Não foi possível baixar o arquivo da URL: redirecionamentos demais.",
        "es": "No se pudo descargar el archivo desde la URL: demasiadas redirecciones.",
    },
    "error.upload_missing": {
        "en": "Nothing was uploaded for this media id, or the upload expired.",
        "pt-BR": "Nada foi enviado para este id de mídia, ou o envio expirou.",
        "es": "No se subió nada para este id de medio, o la subida expiró.",
    },
    "error.window_closed": {
        "en": "Too late: WhatsApp no longer allows this change to the message.",
        "pt-BR": "Tarde demais: o WhatsApp não permite mais esta alteração na mensagem.",
        "es": "Demasiado tarde: WhatsApp ya no permite este cambio en el mensaje.",
    },
    "error.edit_window_closed": {
        "en": "A message can be edited only within 15 minutes after it was sent.",
        "pt-BR": "Uma mensagem só pode ser editada até 15 minutos depois de enviada.",
        "es": "Un mensaje solo se puede editar hasta 15 minutos después de enviado.",
    },
    "error.revoke_window_closed": {
        "en": "A message can be deleted for everyone only within 2 days and 12 hours after it was sent.",
        "pt-BR": "Uma mensagem só pode ser apagada para todos até 2 dias e 12 horas depois de enviada.",
        "es": "Un mensaje solo se puede eliminar para todos hasta 2 días y 12 horas después de enviado.",
    },
    "error.edit_type": {
        "en": "A {type} message cannot be edited: only a text, or the caption of an image, video or document.",
        "pt-BR": "Uma mensagem do tipo {type} não pode ser editada: apenas um texto, ou a legenda de uma imagem, "
        "vídeo ou documento.",
        "es": "Un mensaje de tipo {type} no se puede editar: solo un texto, o el pie de una imagen, video o documento.",
    },
    "error.revoke_type": {
        "en": 'A {type} message cannot be deleted for everyone (remove a reaction by reacting with "").',
        "pt-BR": 'Uma mensagem do tipo {type} não pode ser apagada para todos (remova uma reação reagindo com "").',
        "es": 'Un mensaje de tipo {type} no se puede eliminar para todos (quita una reacción reaccionando con "").',
    },
    "error.change_failed": {
        "en": "This message was never sent, so it cannot be edited or deleted.",
        "pt-BR": "Esta mensagem nunca foi enviada, então não pode ser editada nem apagada.",
        "es": "Este mensaje nunca se envió, así que no se puede editar ni eliminar.",
    },
    "error.change_deleted": {
        "en": "This message was deleted for everyone.",
        "pt-BR": "Esta mensagem foi apagada para todos.",
        "es": "Este mensaje se eliminó para todos.",
    },
    "error.change_not_own": {
        "en": "Only messages sent by this account can be edited or deleted.",
        "pt-BR": "Apenas mensagens enviadas por esta conta podem ser editadas ou apagadas.",
        "es": "Solo los mensajes enviados por esta cuenta se pueden editar o eliminar.",
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
        "en": "Test keys can use the sandbox and cloud engines only (engine: {engine} is for live keys).",
        "pt-BR": "Chaves de teste só podem usar os motores sandbox e cloud (engine: {engine} é para chaves live).",
        "es": "Las claves de prueba solo pueden usar los motores sandbox y cloud (engine: {engine} es para claves "
        "live).",
    },
    # --- Meta's WhatsApp Cloud API (engine "cloud") ------------------------------------------------------------
    "error.cloud_required": {
        "en": "engine: cloud needs `cloud`: the number's phone_number_id, waba_id and access_token.",
        "pt-BR": "engine: cloud exige `cloud`: o phone_number_id, o waba_id e o access_token do número.",
        "es": "engine: cloud requiere `cloud`: el phone_number_id, el waba_id y el access_token del número.",
    },
    "error.cloud_only": {
        "en": "`cloud` is for engine: cloud only (this instance's engine is {engine}).",
        "pt-BR": "`cloud` é só para engine: cloud (o motor desta instância é {engine}).",
        "es": "`cloud` es solo para engine: cloud (el motor de esta instancia es {engine}).",
    },
    "error.cloud_token_invalid": {
        "en": "Meta refused the access token (expired, revoked or mistyped). Create a system user token with "
        "whatsapp_business_messaging and connect the number again.",
        "pt-BR": "A Meta recusou o token de acesso (expirado, revogado ou digitado errado). Crie um token de usuário "
        "do sistema com whatsapp_business_messaging e conecte o número de novo.",
        "es": "Meta rechazó el token de acceso (vencido, revocado o mal escrito). Crea un token de usuario del "
        "sistema con whatsapp_business_messaging y conecta el número de nuevo.",
    },
    "error.cloud_permission_denied": {
        "en": "The access token has no permission over this number: give it whatsapp_business_messaging on the WABA.",
        "pt-BR": "O token de acesso não tem permissão sobre este número: dê a ele whatsapp_business_messaging na WABA.",
        "es": "El token de acceso no tiene permiso sobre este número: dale whatsapp_business_messaging en la WABA.",
    },
    "error.cloud_number_invalid": {
        "en": "Meta does not know this phone_number_id for the token given (Meta's error {meta_code}: {meta_title}).",
        "pt-BR": "A Meta não conhece este phone_number_id para o token informado (erro {meta_code} da Meta: "
        "{meta_title}).",
        "es": "Meta no conoce este phone_number_id para el token indicado (error {meta_code} de Meta: {meta_title}).",
    },
    "error.cloud_number_taken": {
        "en": "This Cloud API number is already connected to another instance: one instance per phone_number_id.",
        "pt-BR": "Este número da Cloud API já está conectado a outra instância: uma instância por phone_number_id.",
        "es": "Este número de la Cloud API ya está conectado a otra instancia: una instancia por phone_number_id.",
    },
    "error.cloud_not_configured": {
        "en": "This deployment has no key to store Cloud API tokens sealed, so Cloud API numbers are not available.",
        "pt-BR": "Esta implantação não tem chave para guardar tokens da Cloud API selados; números da Cloud API não "
        "estão disponíveis.",
        "es": "Este despliegue no tiene clave para guardar sellados los tokens de la Cloud API; los números de la "
        "Cloud API no están disponibles.",
    },
    "error.engine_action": {
        "en": "Engine {engine} does not support {action}: a Cloud API number has no linked-device session (no "
        "pairing, restart, logout, contacts check, groups, calls or session settings).",
        "pt-BR": "O motor {engine} não suporta {action}: um número da Cloud API não tem sessão de aparelho "
        "conectado (sem pareamento, reinício, desconexão, verificação de contatos, grupos, chamadas ou "
        "configurações de sessão).",
        "es": "El motor {engine} no admite {action}: un número de la Cloud API no tiene sesión de dispositivo "
        "vinculado (sin emparejamiento, reinicio, cierre de sesión, verificación de contactos, grupos, llamadas ni "
        "ajustes de sesión).",
    },
    "error.engine_cannot_yet": {
        "en": "Engine {engine} cannot do {action} yet.",
        "pt-BR": "O motor {engine} ainda não consegue fazer {action}.",
        "es": "El motor {engine} aún no puede hacer {action}.",
    },
    "error.block_group": {
        "en": "'{value}' is a group: only a contact (phone number, JID or LID) can be blocked.",
        "pt-BR": "'{value}' é um grupo: só um contato (número de telefone, JID ou LID) pode ser bloqueado.",
        "es": "'{value}' es un grupo: solo se puede bloquear a un contacto (número de teléfono, JID o LID).",
    },
    "error.sandbox_presence_chat": {
        "en": "A contact's own presence (available, unavailable) is not shown in a chat: leave out chat.",
        "pt-BR": "A presença própria de um contato (available, unavailable) não é mostrada em uma conversa: "
        "omita chat.",
        "es": "La presencia propia de un contacto (available, unavailable) no se muestra en un chat: omita chat.",
    },
    "error.engine_type_unsupported": {
        "en": "Engine {engine} cannot send messages of type {type}.",
        "pt-BR": "O motor {engine} não envia mensagens do tipo {type}.",
        "es": "El motor {engine} no puede enviar mensajes de tipo {type}.",
    },
    "error.cloud_recipient_unsupported": {
        "en": "Engine {engine} writes to phone numbers only (no groups or @lid JIDs).",
        "pt-BR": "O motor {engine} só escreve para números de telefone (sem grupos nem JIDs @lid).",
        "es": "El motor {engine} solo escribe a números de teléfono (sin grupos ni JIDs @lid).",
    },
    "error.cloud_signature_invalid": {
        "en": "Missing or invalid X-Hub-Signature-256: it must be the HMAC-SHA256 of this exact body with the app "
        "secret.",
        "pt-BR": "X-Hub-Signature-256 ausente ou inválido: deve ser o HMAC-SHA256 deste corpo exato com o segredo "
        "do app.",
        "es": "Falta X-Hub-Signature-256 o no es válido: debe ser el HMAC-SHA256 de este cuerpo exacto con el "
        "secreto de la app.",
    },
    "error.cloud_webhook_malformed": {
        "en": "The webhook body is not a WhatsApp Business Account notification.",
        "pt-BR": "O corpo do webhook não é uma notificação de WhatsApp Business Account.",
        "es": "El cuerpo del webhook no es una notificación de WhatsApp Business Account.",
    },
    "error.cloud_verify_token": {
        "en": "Webhook verification refused: hub.mode must be subscribe and hub.verify_token the configured token.",
        "pt-BR": "Verificação do webhook recusada: hub.mode deve ser subscribe e hub.verify_token o token configurado.",
        "es": "Verificación del webhook rechazada: hub.mode debe ser subscribe y hub.verify_token el token "
        "configurado.",
    },
    "error.recipient_unavailable": {
        "en": "Meta did not deliver the message to this contact (its marketing limits, or it stopped such messages).",
        "pt-BR": "A Meta não entregou a mensagem a este contato (limites de marketing dele, ou ele parou de receber "
        "essas mensagens).",
        "es": "Meta no entregó el mensaje a este contacto (sus límites de marketing, o dejó de recibir esos mensajes).",
    },
    "error.cloud_api_error": {
        "en": "Meta refused the message; error.details has Meta's code and title.",
        "pt-BR": "A Meta recusou a mensagem; error.details traz o código e o título da Meta.",
        "es": "Meta rechazó el mensaje; error.details trae el código y el título de Meta.",
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
    "error.no_event_types": {
        "en": "'{param}' lists no event type; leave it out to get every event.",
        "pt-BR": "'{param}' não lista nenhum tipo de evento; omita-o para receber todos os eventos.",
        "es": "'{param}' no incluye ningún tipo de evento; omítelo para recibir todos los eventos.",
    },
    "webhook.disabled_notice": {
        "en": "The webhook endpoint {url} failed for 3 days and was disabled. Fix it and enable it again.",
        "pt-BR": "O endpoint de webhook {url} falhou por 3 dias e foi desativado. Corrija-o e ative-o de novo.",
        "es": "El endpoint de webhook {url} falló durante 3 días y fue desactivado. Corrígelo y actívalo de nuevo.",
    },
    # --- Accounts, sign-in and API keys ---------------------------------------------------------------------
    "error.invalid_credentials": {
        "en": "Wrong email or password.",
        "pt-BR": "E-mail ou senha incorretos.",
        "es": "Correo o contraseña incorrectos.",
    },
    "error.email_not_confirmed": {
        "en": "Confirm your email first: use the code we sent you (sign up again to get a new one).",
        "pt-BR": "Confirme seu e-mail primeiro: use o código que enviamos (cadastre-se de novo para receber outro).",
        "es": "Confirma tu correo primero: usa el código que te enviamos (regístrate de nuevo para recibir otro).",
    },
    "error.invalid_email": {
        "en": "This is not an email address.",
        "pt-BR": "Este não é um endereço de e-mail.",
        "es": "Esto no es una dirección de correo.",
    },
    "error.confirm_password_mismatch": {
        "en": "This is not the password chosen at sign-up. Type it again, or sign up again to choose a new one.",
        "pt-BR": "Esta não é a senha escolhida no cadastro. Digite-a de novo, ou cadastre-se de novo para trocá-la.",
        "es": "No es la contraseña elegida al registrarte. Escríbela de nuevo, o regístrate otra vez para cambiarla.",
    },
    "error.invalid_code": {
        "en": "The code is wrong or has expired.",
        "pt-BR": "O código está errado ou expirou.",
        "es": "El código es incorrecto o venció.",
    },
    "error.invalid_session": {
        "en": "Your session is invalid or has ended: sign in again.",
        "pt-BR": "Sua sessão é inválida ou terminou: entre de novo.",
        "es": "Tu sesión no es válida o terminó: inicia sesión de nuevo.",
    },
    "error.too_many_attempts": {
        "en": "Too many attempts: try again in {retry_after} seconds.",
        "pt-BR": "Tentativas demais: tente de novo em {retry_after} segundos.",
        "es": "Demasiados intentos: vuelve a intentarlo en {retry_after} segundos.",
    },
    "error.password.too_short": {
        "en": "The password must have at least {min} characters.",
        "pt-BR": "A senha deve ter pelo menos {min} caracteres.",
        "es": "La contraseña debe tener al menos {min} caracteres.",
    },
    "error.password.too_long": {
        "en": "The password must have at most {max} characters.",
        "pt-BR": "A senha deve ter no máximo {max} caracteres.",
        "es": "La contraseña debe tener como máximo {max} caracteres.",
    },
    "error.password.whitespace": {
        "en": "The password must not start or end with a space.",
        "pt-BR": "A senha não pode começar nem terminar com espaço.",
        "es": "La contraseña no puede empezar ni terminar con un espacio.",
    },
    "error.password.lowercase": {
        "en": "The password needs a lowercase letter.",
        "pt-BR": "A senha precisa de uma letra minúscula.",
        "es": "La contraseña necesita una letra minúscula.",
    },
    "error.password.uppercase": {
        "en": "The password needs an uppercase letter.",
        "pt-BR": "A senha precisa de uma letra maiúscula.",
        "es": "La contraseña necesita una letra mayúscula.",
    },
    "error.password.digit": {
        "en": "The password needs a digit.",
        "pt-BR": "A senha precisa de um número.",
        "es": "La contraseña necesita un número.",
    },
    "error.password.symbol": {
        "en": "The password needs a symbol (neither a letter nor a digit).",
        "pt-BR": "A senha precisa de um símbolo (nem letra nem número).",
        "es": "La contraseña necesita un símbolo (ni letra ni número).",
    },
    "error.password.weak": {
        "en": "This password is too weak.",
        "pt-BR": "Esta senha é fraca demais.",
        "es": "Esta contraseña es demasiado débil.",
    },
    "error.auth_not_configured": {
        "en": "Sign-in is not set up on this deployment.",
        "pt-BR": "O login não está configurado nesta implantação.",
        "es": "El inicio de sesión no está configurado en esta implementación.",
    },
    "error.sign_out_needs_session": {
        "en": "Sign out with the session's access token as the Bearer (Authorization: Bearer <access_token>).",
        "pt-BR": "Para sair, envie o token de acesso da sessão como Bearer (Authorization: Bearer <access_token>).",
        "es": "Para cerrar sesión, envía el token de acceso de la sesión como Bearer "
        "(Authorization: Bearer <access_token>).",
    },
    "error.refresh_token_not_this_session": {
        "en": "This refresh token is not one of the signed-in session's (or it no longer works).",
        "pt-BR": "Este refresh token não é da sessão conectada (ou não funciona mais).",
        "es": "Este refresh token no es de la sesión iniciada (o ya no funciona).",
    },
    "error.session_required": {
        "en": "API keys cannot manage API keys: sign in to the console (a session token) to do this.",
        "pt-BR": "Chaves de API não gerenciam chaves de API: entre no console (um token de sessão) para isso.",
        "es": "Las claves de API no gestionan claves de API: inicia sesión en la consola (un token de sesión).",
    },
    "error.missing_scope": {
        "en": "This API key lacks the scope '{scope}'.",
        "pt-BR": "Esta chave de API não tem o escopo '{scope}'.",
        "es": "Esta clave de API no tiene el alcance '{scope}'.",
    },
    "error.unknown_scope": {
        "en": "'{value}' is not a scope (see docs/accounts.md for the list).",
        "pt-BR": "'{value}' não é um escopo (veja a lista em docs/accounts.md).",
        "es": "'{value}' no es un alcance (mira la lista en docs/accounts.md).",
    },
    "error.account_suspended": {
        "en": "This account is suspended: contact support.",
        "pt-BR": "Esta conta está suspensa: fale com o suporte.",
        "es": "Esta cuenta está suspendida: contacta a soporte.",
    },
    "error.mode_is_the_keys": {
        "en": "This is a {mode} key: its mode cannot be switched with Bz-Mode. Use a bz_live_… key for live data "
        "and a bz_test_… key for test mode, or send no Bz-Mode.",
        "pt-BR": "Esta é uma chave {mode}: o modo dela não muda com Bz-Mode. Use uma chave bz_live_… para dados "
        "reais e uma bz_test_… para o modo de teste, ou não envie Bz-Mode.",
        "es": "Esta es una clave {mode}: su modo no cambia con Bz-Mode. Usa una clave bz_live_… para datos reales "
        "y una bz_test_… para el modo de prueba, o no envíes Bz-Mode.",
    },
    "error.invalid_mode": {
        "en": "Bz-Mode must be 'live' or 'test'.",
        "pt-BR": "Bz-Mode deve ser 'live' ou 'test'.",
        "es": "Bz-Mode debe ser 'live' o 'test'.",
    },
    "error.key_revoked": {
        "en": "This key is revoked.",
        "pt-BR": "Esta chave foi revogada.",
        "es": "Esta clave fue revocada.",
    },
    # --- Emails (the identity service's codes and our own) ---------------------------------------------------
    "email.confirm.subject": {
        "en": "Your bzapper confirmation code",
        "pt-BR": "Seu código de confirmação do bzapper",
        "es": "Tu código de confirmación de bzapper",
    },
    "email.confirm.text": {
        "en": "Hello {name},\n\nYour confirmation code is {code}. It expires in 24 hours.\n\n"
        "If you did not sign up for bzapper, ignore this email.",
        "pt-BR": "Olá, {name},\n\nSeu código de confirmação é {code}. Ele expira em 24 horas.\n\n"
        "Se você não se cadastrou no bzapper, ignore este e-mail.",
        "es": "Hola, {name}:\n\nTu código de confirmación es {code}. Vence en 24 horas.\n\n"
        "Si no te registraste en bzapper, ignora este correo.",
    },
    "email.reset.subject": {
        "en": "Reset your bzapper password",
        "pt-BR": "Redefina sua senha do bzapper",
        "es": "Restablece tu contraseña de bzapper",
    },
    "email.reset.text": {
        "en": "Your password reset code is {code}. It expires in 1 hour.\n\n"
        "If you did not ask to reset your password, ignore this email: your password stays the same.",
        "pt-BR": "Seu código para redefinir a senha é {code}. Ele expira em 1 hora.\n\n"
        "Se você não pediu para redefinir a senha, ignore este e-mail: sua senha continua a mesma.",
        "es": "Tu código para restablecer la contraseña es {code}. Vence en 1 hora.\n\n"
        "Si no pediste restablecer tu contraseña, ignora este correo: tu contraseña sigue igual.",
    },
    "email.already_registered.subject": {
        "en": "You already have a bzapper account",
        "pt-BR": "Você já tem uma conta no bzapper",
        "es": "Ya tienes una cuenta en bzapper",
    },
    "email.already_registered.text": {
        "en": "Someone (maybe you) tried to sign up for bzapper with this email, which already has an account.\n\n"
        "Sign in with it, or reset your password if you forgot it. If it was not you, ignore this email.",
        "pt-BR": "Alguém (talvez você) tentou se cadastrar no bzapper com este e-mail, que já tem uma conta.\n\n"
        "Entre com ele ou redefina sua senha se a esqueceu. Se não foi você, ignore este e-mail.",
        "es": "Alguien (quizás tú) intentó registrarse en bzapper con este correo, que ya tiene una cuenta.\n\n"
        "Inicia sesión con él o restablece tu contraseña si la olvidaste. Si no fuiste tú, ignora este correo.",
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
        "en": "This checkout is no longer open.",
        "pt-BR": "Este checkout não está mais aberto.",
        "es": "Este checkout ya no está abierto.",
    },
    # Why a checkout is closed, one text per status (no English status word inside a translated sentence).
    "checkout.closed.paid": {
        "en": "This checkout is no longer open: it was paid.",
        "pt-BR": "Este checkout não está mais aberto: ele já foi pago.",
        "es": "Este checkout ya no está abierto: ya se pagó.",
    },
    "checkout.closed.failed": {
        "en": "This checkout is no longer open: its payment failed.",
        "pt-BR": "Este checkout não está mais aberto: o pagamento foi recusado.",
        "es": "Este checkout ya no está abierto: el pago fue rechazado.",
    },
    "checkout.closed.expired": {
        "en": "This checkout is no longer open: it expired.",
        "pt-BR": "Este checkout não está mais aberto: ele expirou.",
        "es": "Este checkout ya no está abierto: caducó.",
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
    "error.sandbox_invalid_pairing_code": {
        "en": "This pairing code is not the one the instance is showing (or it expired). Ask for a new code.",
        "pt-BR": "Este código de pareamento não é o que a instância está mostrando (ou expirou). Peça um novo código.",
        "es": "Este código de vinculación no es el que muestra la instancia (o caducó). Pide un código nuevo.",
    },
    "error.sandbox_invalid_inbound": {
        "en": "The simulated message is not valid.",
        "pt-BR": "A mensagem simulada não é válida.",
        "es": "El mensaje simulado no es válido.",
    },
    "error.sandbox_body_twice": {
        "en": "Give the text either as 'body' or as 'content.body', not both.",
        "pt-BR": "Informe o texto em 'body' ou em 'content.body', não nos dois.",
        "es": "Indica el texto en 'body' o en 'content.body', no en ambos.",
    },
    "error.sandbox_history_conversation": {
        "en": "Each history conversation names a 'contact' or a 'group', not both; a group's messages name who "
        "wrote them ('from') unless 'from_me'.",
        "pt-BR": "Cada conversa do histórico informa um 'contact' ou um 'group', não os dois; as mensagens de um "
        "grupo informam quem as escreveu ('from'), a menos que 'from_me'.",
        "es": "Cada conversación del historial indica un 'contact' o un 'group', no ambos; los mensajes de un grupo "
        "indican quién los escribió ('from'), salvo con 'from_me'.",
    },
    "error.sandbox_no_history_chunk": {
        "en": "This instance's pairing was handed no history chunk {chunk}: pair it with a 'history' and "
        "settings.history_sync on first.",
        "pt-BR": "O pareamento desta instância não recebeu o bloco de histórico {chunk}: pareie-a com um 'history' "
        "e settings.history_sync ativado antes.",
        "es": "El emparejamiento de esta instancia no recibió el bloque de historial {chunk}: emparéjala con un "
        "'history' y settings.history_sync activado antes.",
    },
    "error.sandbox_group_name_without_group": {
        "en": "'group_name' is the subject of a group: give it only with 'group'.",
        "pt-BR": "'group_name' é o assunto de um grupo: informe-o apenas junto com 'group'.",
        "es": "'group_name' es el asunto de un grupo: indícalo solo junto con 'group'.",
    },
    # Why the sandbox network refused an injected message (engines/sandbox InvalidInput problems).
    "error.sandbox_invalid_inbound.content_not_object": {
        "en": "The simulated message is not valid: content must be an object.",
        "pt-BR": "A mensagem simulada não é válida: content deve ser um objeto.",
        "es": "El mensaje simulado no es válido: content debe ser un objeto.",
    },
    "error.sandbox_invalid_inbound.text_body": {
        "en": "The simulated message is not valid: a text needs content.body (a string).",
        "pt-BR": "A mensagem simulada não é válida: um texto precisa de content.body (uma string).",
        "es": "El mensaje simulado no es válido: un texto necesita content.body (una cadena).",
    },
    "error.sandbox_invalid_inbound.media_missing": {
        "en": "The simulated message is not valid: media content needs content.media (mime_type, data_base64).",
        "pt-BR": "A mensagem simulada não é válida: conteúdo de mídia precisa de content.media "
        "(mime_type, data_base64).",
        "es": "El mensaje simulado no es válido: el contenido multimedia necesita content.media "
        "(mime_type, data_base64).",
    },
    "error.sandbox_invalid_inbound.media_mime_type": {
        "en": "The simulated message is not valid: content.media.mime_type must be a MIME type.",
        "pt-BR": "A mensagem simulada não é válida: content.media.mime_type deve ser um tipo MIME.",
        "es": "El mensaje simulado no es válido: content.media.mime_type debe ser un tipo MIME.",
    },
    "error.sandbox_invalid_inbound.media_filename": {
        "en": "The simulated message is not valid: content.media.filename must be a non-empty string.",
        "pt-BR": "A mensagem simulada não é válida: content.media.filename deve ser uma string não vazia.",
        "es": "El mensaje simulado no es válido: content.media.filename debe ser una cadena no vacía.",
    },
    "error.sandbox_invalid_inbound.media_data_type": {
        "en": "The simulated message is not valid: content.media.data_base64 must be a base64 string.",
        "pt-BR": "A mensagem simulada não é válida: content.media.data_base64 deve ser uma string em base64.",
        "es": "El mensaje simulado no es válido: content.media.data_base64 debe ser una cadena en base64.",
    },
    "error.sandbox_invalid_inbound.media_data_invalid": {
        "en": "The simulated message is not valid: content.media.data_base64 is not valid base64.",
        "pt-BR": "A mensagem simulada não é válida: content.media.data_base64 não é base64 válido.",
        "es": "El mensaje simulado no es válido: content.media.data_base64 no es base64 válido.",
    },
    "error.sandbox_invalid_inbound.media_data_empty": {
        "en": "The simulated message is not valid: content.media.data_base64 is empty.",
        "pt-BR": "A mensagem simulada não é válida: content.media.data_base64 está vazio.",
        "es": "El mensaje simulado no es válido: content.media.data_base64 está vacío.",
    },
    # --- Verification codes (POST /messages/otp) -------------------------------------------------------------
    "error.otp_not_configured": {
        "en": "Verification codes are not available here: no sealing key is configured.",
        "pt-BR": "Códigos de verificação não estão disponíveis aqui: nenhuma chave de selagem está configurada.",
        "es": "Los códigos de verificación no están disponibles aquí: no hay ninguna clave de sellado configurada.",
    },
    "error.otp_code_invalid": {
        "en": "The code must have {min} to {max} digits, and nothing else.",
        "pt-BR": "O código deve ter de {min} a {max} dígitos, e nada mais.",
        "es": "El código debe tener de {min} a {max} dígitos, y nada más.",
    },
    "error.otp_code_in_body": {
        "en": "The text must not contain the code: the code goes alone in the second message.",
        "pt-BR": "O texto não pode conter o código: o código vai sozinho na segunda mensagem.",
        "es": "El texto no debe contener el código: el código va solo en el segundo mensaje.",
    },
    "otp.body": {
        "en": "{brand}: your verification code is in the next message. It expires in {expiry}. "
        "Never share it with anyone.",
        "pt-BR": "{brand}: seu código de verificação está na próxima mensagem. Ele expira em {expiry}. "
        "Nunca o compartilhe com ninguém.",
        "es": "{brand}: tu código de verificación está en el siguiente mensaje. Vence en {expiry}. "
        "Nunca lo compartas con nadie.",
    },
    "otp.body_unbranded": {
        "en": "Your verification code is in the next message. It expires in {expiry}. Never share it with anyone.",
        "pt-BR": "Seu código de verificação está na próxima mensagem. Ele expira em {expiry}. "
        "Nunca o compartilhe com ninguém.",
        "es": "Tu código de verificación está en el siguiente mensaje. Vence en {expiry}. "
        "Nunca lo compartas con nadie.",
    },
    "otp.expiry.hours.one": {"en": "{count} hour", "pt-BR": "{count} hora", "es": "{count} hora"},
    "otp.expiry.hours.other": {"en": "{count} hours", "pt-BR": "{count} horas", "es": "{count} horas"},
    "otp.expiry.minutes.one": {"en": "{count} minute", "pt-BR": "{count} minuto", "es": "{count} minuto"},
    "otp.expiry.minutes.other": {"en": "{count} minutes", "pt-BR": "{count} minutos", "es": "{count} minutos"},
    "otp.expiry.seconds.one": {"en": "{count} second", "pt-BR": "{count} segundo", "es": "{count} segundo"},
    "otp.expiry.seconds.other": {"en": "{count} seconds", "pt-BR": "{count} segundos", "es": "{count} segundos"},
    # -- instance settings (docs/settings.md) --
    "error.unknown_setting": {
        "en": "There is no setting called {setting}.",
        "pt-BR": "Não existe uma configuração chamada {setting}.",
        "es": "No existe una configuración llamada {setting}.",
    },
    "error.setting_boolean": {
        "en": "The setting {setting} must be true or false.",
        "pt-BR": "A configuração {setting} deve ser true ou false.",
        "es": "La configuración {setting} debe ser true o false.",
    },
    "error.reject_call_message": {
        "en": "The message for rejected calls must be a text of 1 to {limit} characters, or null.",
        "pt-BR": "A mensagem para chamadas rejeitadas deve ser um texto de 1 a {limit} caracteres, ou null.",
        "es": "El mensaje para llamadas rechazadas debe ser un texto de 1 a {limit} caracteres, o null.",
    },
    "error.proxy_url": {
        "en": "The proxy must be an http://, https:// or socks5:// URL with a host and a port "
        "(e.g. socks5://user:password@proxy.example.com:1080), and nothing after the port.",
        "pt-BR": "O proxy deve ser uma URL http://, https:// ou socks5:// com host e porta "
        "(ex.: socks5://usuario:senha@proxy.example.com:1080), e nada depois da porta.",
        "es": "El proxy debe ser una URL http://, https:// o socks5:// con host y puerto "
        "(p. ej. socks5://usuario:clave@proxy.example.com:1080), y nada después del puerto.",
    },
    "error.proxy_secret_not_configured": {
        "en": "A proxy with a password cannot be stored here: no sealing key is configured.",
        "pt-BR": "Um proxy com senha não pode ser guardado aqui: nenhuma chave de selagem está configurada.",
        "es": "Un proxy con contraseña no se puede guardar aquí: no hay ninguna clave de sellado configurada.",
    },
    "error.passkey_required": {
        "en": "WhatsApp asks for this phone's passkey before it links: confirm the link on the phone "
        "(with its fingerprint, face or screen lock), then the instance connects. To pair another phone, "
        "restart the instance.",
        "pt-BR": "O WhatsApp pede a chave de acesso (passkey) deste telefone antes de vincular: confirme o "
        "vínculo no telefone (com a digital, o rosto ou o bloqueio de tela) e a instância conecta. Para "
        "parear outro telefone, reinicie a instância.",
        "es": "WhatsApp pide la llave de acceso (passkey) de este teléfono antes de vincularlo: confirma el "
        "vínculo en el teléfono (con la huella, el rostro o el bloqueo de pantalla) y la instancia se conecta. "
        "Para vincular otro teléfono, reinicia la instancia.",
    },
    # --- status posts (docs/status.md) ---
    "error.status_engine_unsupported": {
        "en": "Numbers of the '{engine}' engine cannot post statuses: the Cloud API has no status (stories). "
        "Post from a linked-device number.",
        "pt-BR": "Números do motor '{engine}' não podem publicar status: a Cloud API não tem status (stories). "
        "Publique a partir de um número de aparelho conectado.",
        "es": "Los números del motor '{engine}' no pueden publicar estados: la Cloud API no tiene estados "
        "(historias). Publica desde un número de dispositivo vinculado.",
    },
    "error.status_audience_unsupported": {
        "en": "Numbers of the '{engine}' engine cannot restrict a status to an 'audience': WhatsApp shows it to "
        "the contacts the phone's status privacy setting allows. Leave 'audience' out.",
        "pt-BR": "Números do motor '{engine}' não podem restringir um status a uma 'audience': o WhatsApp o mostra "
        "aos contatos permitidos pela privacidade de status do telefone. Omita 'audience'.",
        "es": "Los números del motor '{engine}' no pueden restringir un estado a una 'audience': WhatsApp lo "
        "muestra a los contactos que permite la privacidad de estados del teléfono. Omite 'audience'.",
    },
    "error.status_audience_duplicate": {
        "en": "'{value}' is in 'audience' more than once.",
        "pt-BR": "'{value}' aparece mais de uma vez em 'audience'.",
        "es": "'{value}' aparece más de una vez en 'audience'.",
    },
}
