/** This API as an OpenAPI document, from the zod schemas every route declares (served at /openapi.json; the console's client is typed from it). */
import { OpenApiGeneratorV3, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

export function openApiDocument(registry: OpenAPIRegistry) {
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'ERP process platform',
      version: '1.0.0',
      description:
        'Orders, returns and purchases as durable processes over one ERP schema. Errors: {"error": {"code", "message", "details"}}.',
    },
    servers: [{ url: '/' }],
  });
}
