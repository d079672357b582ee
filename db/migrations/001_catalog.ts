/** Catalog: products (stocked items and kits) and the component lines of kits. */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('products', (t) => {
    t.increments('id');
    t.text('sku').notNullable().unique();
    t.text('name').notNullable();
    t.text('unit').notNullable().defaultTo('unit');
    t.text('barcode');
    t.bigInteger('cost').notNullable(); // standard unit cost, minor units
    t.bigInteger('price'); // list price, minor units
    t.text('kind').notNullable().defaultTo('stocked');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamps(true, true);
  });
  await k.raw(`ALTER TABLE products
    ADD CONSTRAINT products_kind CHECK (kind IN ('stocked','kit')),
    ADD CONSTRAINT products_cost CHECK (cost >= 0),
    ADD CONSTRAINT products_price CHECK (price IS NULL OR price >= 0)`);
  await k.schema.createTable('kit_components', (t) => {
    t.integer('kit_product_id').notNullable().references('products.id').onDelete('CASCADE');
    t.integer('component_product_id').notNullable().references('products.id');
    t.integer('quantity').notNullable();
    t.primary(['kit_product_id', 'component_product_id']);
  });
  await k.raw(`ALTER TABLE kit_components
    ADD CONSTRAINT kit_components_qty CHECK (quantity > 0),
    ADD CONSTRAINT kit_components_not_self CHECK (kit_product_id <> component_product_id)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('kit_components');
  await k.schema.dropTable('products');
}
